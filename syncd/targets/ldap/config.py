"""The config of an LDAP target (OpenLDAP now; Active Directory's keys are checked already)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, ValidationInfo, field_validator, model_validator

from syncd.config.secrets import env_ref_only, one_secret
from syncd.errors import InvalidDn
from syncd.objects import parse_dn
from syncd.targets.config_base import TargetConfigBase

UPN = re.compile(r"^[^@\s=,]+@[^@\s=,]+$")


def _dn_syntax(value: str) -> str:
    """An LDAP DN (RFC 4514), so a typo is found by validate, not by the server."""
    try:
        parse_dn(value)
    except InvalidDn as exc:
        raise ValueError(f"{exc}; want e.g. dc=example,dc=org") from None
    return value


class LdapTarget(TargetConfigBase):
    type: Literal["ldap"]
    flavour: Literal["openldap", "ad"] = "openldap"
    url: str
    start_tls: bool = False
    tls_verify: bool = True
    tls_ca_file: Path | None = None
    bind_dn: str
    password_file: Path | None = None
    password: str | None = None
    base_dn: str
    timeout: float = Field(10.0, gt=0, description="seconds to connect, and per operation")
    retries: int = Field(2, ge=0, description="extra attempts when the connection fails")

    _env = field_validator("password")(env_ref_only)
    _base_dn = field_validator("base_dn")(_dn_syntax)

    @field_validator("bind_dn")
    @classmethod
    def _bind_dn(cls, value: str, info: ValidationInfo) -> str:
        """Active Directory also binds as a user principal name (svc-syncd@example.org)."""
        if not UPN.match(value):
            return _dn_syntax(value)
        if info.data.get("flavour") != "ad":
            raise ValueError(f"{value!r} is a user principal name, which only Active Directory "
                             "takes (flavour: ad); OpenLDAP binds with a DN, like "
                             "cn=syncd,dc=example,dc=org")
        return value

    @field_validator("url")
    @classmethod
    def _ldap_url(cls, value: str) -> str:
        """Checked for credentials first: a URL with a password in it is never echoed."""
        if "@" in urlsplit(value).netloc:
            raise ValueError("a URL with credentials in it is refused: the password would "
                             "show in logs and errors; bind with bind_dn and password_file "
                             "(or password: ${env:NAME})")
        if not value.startswith(("ldap://", "ldaps://", "ldapi://")):
            raise ValueError(f"must start with ldap://, ldaps:// or ldapi://, got {value!r}")
        return value

    @model_validator(mode="after")
    def _secret(self) -> LdapTarget:
        one_secret(self, "password")
        if self.flavour == "ad":
            raise ValueError("flavour ad (Active Directory) is not supported by this version "
                             "of syncd yet (the keys are checked so that the config keeps "
                             "working later)")
        return self

    def describe(self) -> dict[str, str]:
        return {"flavour": self.flavour, "base_dn": self.base_dn}

    def template_context(self) -> dict[str, Any]:
        return {"base_dn": self.base_dn}
