"""The config of an LDAP source: an existing directory, one search per kind."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from syncd.config.secrets import env_ref_only
from syncd.dateformat import check_date_format
from syncd.org import field_specs
from syncd.sources.config_base import SourceConfigBase
from syncd.sources.fieldmap import TRUE_VALUES, FieldMapping, KindName, known_fields


class LdapKind(FieldMapping):
    base: str = Field(description="DN the search starts at, e.g. ou=people,dc=example,dc=org")
    filter: str = Field("(objectClass=*)", description="LDAP filter of this kind's entries")
    scope: Literal["sub", "one", "base"] = "sub"

    @field_validator("filter")
    @classmethod
    def _parenthesised(cls, value: str) -> str:
        if not (value.startswith("(") and value.endswith(")")):
            raise ValueError(f"an LDAP filter is in parentheses, e.g. (objectClass=person); "
                             f"got {value!r}")
        return value


class LdapSource(SourceConfigBase):
    type: Literal["ldap"]
    url: str = Field(description="ldap://host:389 or ldaps://host:636")
    start_tls: bool = False
    tls_verify: bool = True
    tls_ca_file: Path | None = None
    bind_dn: str | None = Field(None, description="absent: an anonymous search")
    password_file: Path | None = None
    password: str | None = None
    paged: bool = Field(True, description="RFC 2696 paged results: past the server's size limit")
    page_size: int = Field(500, gt=0)
    timeout: float = Field(30.0, gt=0, description="seconds to connect, and per answer")
    date_format: str = Field("%Y%m%d%H%M%SZ", description="LDAP's GeneralizedTime by default")
    true_values: list[str] = Field(default_factory=lambda: list(TRUE_VALUES))
    kinds: dict[KindName, LdapKind]

    local_paths: ClassVar[tuple[str, ...]] = ("password_file", "tls_ca_file")

    _fields = field_validator("kinds")(known_fields)

    @field_validator("kinds")
    @classmethod
    def _required_mapped(cls, kinds: dict[str, LdapKind]) -> dict[str, LdapKind]:
        """Only the attributes `fields` names are asked for: a field's own name is
        seldom an attribute's (given_name is not even a valid one)."""
        for kind, spec in kinds.items():
            unmapped = [field.name for field in field_specs(kind) if field.required
                        and field.name not in spec.fields and field.name not in spec.defaults]
            if unmapped:
                example = ", ".join(f"{name}: ATTRIBUTE" for name in unmapped)
                raise ValueError(f"kinds.{kind}: name the attribute of {', '.join(unmapped)} "
                                 f"in fields ({{{example}}}) or give it in defaults")
        return kinds
    _date_format = field_validator("date_format")(check_date_format)
    _env = field_validator("password")(env_ref_only)

    @field_validator("url")
    @classmethod
    def _ldap_url(cls, value: str) -> str:
        """Credentials first: no message echoes a URL that carries them."""
        if "@" in value.partition("://")[2].split("/", 1)[0]:
            raise ValueError("credentials do not belong in the URL: use bind_dn and "
                             "password_file (or password: ${env:NAME})")
        if not value.startswith(("ldap://", "ldaps://")):
            raise ValueError(f"must start with ldap:// or ldaps://, got {value!r}")
        return value

    @model_validator(mode="after")
    def _password_with_bind_dn(self) -> LdapSource:
        secrets = (self.password_file is not None) + (self.password is not None)
        if self.bind_dn is not None and secrets != 1:
            raise ValueError("bind_dn needs exactly one of password_file or password "
                             "(${env:NAME})")
        if self.bind_dn is None and secrets:
            raise ValueError("a password without bind_dn: give the DN it is the password of")
        return self

    @property
    def list_separator(self) -> None:
        """An attribute's several values are a list already: text is never split."""
        return None

    def where(self) -> str:
        return self.url
