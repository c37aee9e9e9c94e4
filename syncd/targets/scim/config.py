"""The config of a SCIM 2.0 target: where the provider is and how to sign in to it."""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator

from syncd.config.secrets import env_ref_only, one_secret
from syncd.targets.config_base import TargetConfigBase


class ScimTarget(TargetConfigBase):
    """A SCIM service provider (RFC 7643/7644): Users and Groups at `url`."""

    type: Literal["scim"]
    url: str = Field(description="the provider's SCIM base, e.g. https://host/scim/v2")
    token_file: Path | None = Field(None, description="a bearer token, read at each cycle")
    token: str | None = Field(None, description="${ENV} reference to a bearer token")
    username: str | None = Field(None, description="HTTP basic instead of a bearer token")
    password_file: Path | None = None
    password: str | None = Field(None, description="${ENV} reference to the basic password")
    tls_verify: bool = True
    tls_ca_file: Path | None = Field(None, description="CA bundle for a private CA")
    timeout: float = Field(30, gt=0, description="seconds per request")
    page_size: int = Field(200, ge=1, le=10000, description="resources per page read "
                           "(the provider's filter.maxResults caps it)")
    retries: int = Field(4, ge=0, le=10, description="tries again after a 429, a 5xx or a "
                         "lost connection, then gives up for this cycle")
    max_retry_wait: float = Field(60, gt=0, description="longest wait, in seconds, that a "
                                  "Retry-After is honoured for")

    _env = field_validator("token", "password")(env_ref_only)

    @model_validator(mode="after")
    def _secret(self) -> ScimTarget:
        if self.username is None:
            one_secret(self, "token")
            if self.password or self.password_file:
                raise ValueError("password and password_file need username (HTTP basic)")
        else:
            if self.token or self.token_file:
                raise ValueError("give a bearer token or a username and password, not both")
            one_secret(self, "password")
        parts = urlsplit(self.url)
        if parts.username is not None or parts.password is not None or parts.query:
            raise ValueError("url: credentials or a query in the URL are refused (they "
                             "would be shown in plans and errors); use token_file, or "
                             "username and password_file")
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise ValueError(f"url {self.url!r}: an http(s) URL of the provider's SCIM base")
        return self

    def describe(self) -> dict[str, str]:
        return {"flavour": "scim", "url": self.url}
