"""The config of an LDAP target: OpenLDAP, or Active Directory (`flavour: ad`)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, ValidationInfo, field_validator, model_validator

from syncd.config.base import Model
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


class InitialPassword(Model):
    """Where a new Active Directory account's generated password goes (it is never logged
    or stored by syncd): nowhere, a file per person, or a command's stdin."""

    deliver: Literal["none", "file", "command"] = "none"
    folder: Path | None = Field(None, description="deliver: file; one 0600 file per username")
    command: list[str] | None = Field(None, min_length=1, description="deliver: command; argv")
    timeout: float = Field(30.0, gt=0, description="seconds the command may take")
    length: int = Field(20, ge=8, le=256, description="at least; the domain's minimum wins")
    must_change: bool = Field(False, description="pwdLastSet 0: changed at first logon")

    @model_validator(mode="after")
    def _where(self) -> InitialPassword:
        if self.deliver == "file" and self.folder is None:
            raise ValueError("deliver: file needs folder (a directory the files go in)")
        if self.deliver == "command" and not self.command:
            raise ValueError("deliver: command needs command (a list: program and arguments)")
        return self


class LdapTarget(TargetConfigBase):
    type: Literal["ldap"]
    flavour: Literal["openldap", "ad"] = "openldap"
    url: str | list[str] = Field(description="one URL, or several domain controllers in order")
    start_tls: bool = False
    tls_verify: bool = True
    tls_ca_file: Path | None = None
    bind_dn: str
    password_file: Path | None = None
    password: str | None = None
    base_dn: str
    timeout: float = Field(10.0, gt=0, description="seconds to connect, and per operation")
    retries: int = Field(2, ge=0, description="extra attempts when the connection fails")
    protected: list[str] = Field(
        default_factory=list, description="DNs syncd never touches: the entry and all below")
    protected_filter: str | None = Field(
        None, description="an LDAP filter; the entries it matches are never touched")
    initial_password: InitialPassword = Field(default_factory=InitialPassword)

    _env = field_validator("password")(env_ref_only)
    _base_dn = field_validator("base_dn")(_dn_syntax)

    @field_validator("protected")
    @classmethod
    def _protected(cls, values: list[str]) -> list[str]:
        return [_dn_syntax(value) for value in values]

    @field_validator("protected_filter")
    @classmethod
    def _filter(cls, value: str | None) -> str | None:
        if value is not None and not (value.startswith("(") and value.endswith(")")):
            raise ValueError(f"an LDAP filter in parentheses, like (adminCount=1); got {value!r}")
        return value

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
    def _ldap_urls(cls, value: str | list[str]) -> str | list[str]:
        if isinstance(value, str):
            return _ldap_url(value)
        if not value:
            raise ValueError("at least one URL")
        return [_ldap_url(url) for url in value]

    @property
    def urls(self) -> list[str]:
        """The servers, tried in this order."""
        return [self.url] if isinstance(self.url, str) else list(self.url)

    @property
    def where(self) -> str:
        """The URL(s), as errors name them."""
        return ", ".join(self.urls)

    @model_validator(mode="after")
    def _secret(self) -> LdapTarget:
        one_secret(self, "password")
        if self.flavour != "ad" and "initial_password" in self.model_fields_set:
            raise ValueError("initial_password is for Active Directory (flavour: ad) only")
        if self.flavour == "ad" and any(name.lower() != "dc" for rdn in parse_dn(self.base_dn)
                                        for name, _ in rdn):
            raise ValueError(f"flavour ad: base_dn {self.base_dn!r} must be the domain root "
                             "(DC=... only): a sAMAccountName must be unique in the whole "
                             "domain; the mapping's DNs put the accounts in their OUs")
        return self

    def describe(self) -> dict[str, str]:
        return {"flavour": self.flavour, "base_dn": self.base_dn}

    def template_context(self) -> dict[str, Any]:
        """AD mappings also read `domain`, the DNS name of base_dn's DC parts
        (DC=test,DC=local: test.local), as in userPrincipalName."""
        context: dict[str, Any] = {"base_dn": self.base_dn}
        if self.flavour == "ad":
            context["domain"] = dns_domain(self.base_dn)
        return context


def dns_domain(dn: str) -> str:
    """The domain's DNS name from a DN's DC components."""
    return ".".join(value for rdn in parse_dn(dn) for name, value in rdn if name.lower() == "dc")


def _ldap_url(value: str) -> str:
    """Checked for credentials first: a URL with a password in it is never echoed."""
    if "@" in urlsplit(value).netloc:
        raise ValueError("a URL with credentials in it is refused: the password would "
                         "show in logs and errors; bind with bind_dn and password_file "
                         "(or password: ${env:NAME})")
    if not value.startswith(("ldap://", "ldaps://", "ldapi://")):
        raise ValueError(f"must start with ldap://, ldaps:// or ldapi://, got {value!r}")
    return value
