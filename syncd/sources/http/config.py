"""The config of an HTTP JSON API source: one URL path per kind, credentials, paging."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from syncd.config.base import Model
from syncd.config.secrets import env_ref_only, one_secret
from syncd.dateformat import check_date_format
from syncd.sources.config_base import SourceConfigBase
from syncd.sources.fieldmap import TRUE_VALUES, FieldMapping, KindName, known_fields


class HttpKind(FieldMapping):
    path: str = Field(description="URL path (relative to base_url) of this kind's records")
    items: str | None = Field(None, description="key holding the list in each page, e.g. results")


class BearerAuth(Model):
    token_file: Path | None = None
    token: str | None = None

    _env = field_validator("token")(env_ref_only)

    @model_validator(mode="after")
    def _secret(self) -> BearerAuth:
        one_secret(self, "token")
        return self


class BasicAuth(Model):
    username: str
    password_file: Path | None = None
    password: str | None = None

    _env = field_validator("password")(env_ref_only)

    @model_validator(mode="after")
    def _secret(self) -> BasicAuth:
        one_secret(self, "password")
        return self


class Pagination(Model):
    style: Literal["none", "next_link", "page"] = "none"
    next_field: str = Field("next", description="next_link: key of the next page's URL")
    page_param: str = "page"
    size_param: str | None = None
    page_size: int = Field(500, gt=0)
    first_page: int = 1


class HttpSource(SourceConfigBase):
    type: Literal["http"]
    base_url: str
    kinds: dict[KindName, HttpKind]

    _fields = field_validator("kinds")(known_fields)
    _date_format = field_validator("date_format")(check_date_format)
    bearer: BearerAuth | None = None
    basic: BasicAuth | None = None
    pagination: Pagination = Pagination()
    date_format: str = "%Y-%m-%d"
    true_values: list[str] = Field(default_factory=lambda: list(TRUE_VALUES))
    timeout: float = Field(30.0, gt=0, description="seconds per request")
    retries: int = Field(2, ge=0, description="extra attempts on connect errors and 5xx")
    tls_verify: bool = True
    tls_ca_file: Path | None = None

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        """Credentials first, whatever the scheme; and no message echoes the URL."""
        scheme, found, rest = value.partition("://")
        if "@" in (rest if found else value).split("/", 1)[0]:
            raise ValueError("credentials do not belong in the URL: use bearer or basic")
        if scheme not in ("http", "https") or not found:
            got = f"{scheme}://" if found else "no scheme"
            raise ValueError(f"must start with http:// or https://, got {got}")
        return value

    @model_validator(mode="after")
    def _one_auth(self) -> HttpSource:
        if self.bearer and self.basic:
            raise ValueError("give at most one of bearer or basic")
        return self

    @property
    def list_separator(self) -> None:
        """JSON has lists of its own: a string is never split into one."""
        return None
