"""The config of an OS2mo source: its GraphQL API, the Keycloak client it reads as."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator

from syncd.sources.config_base import SourceConfigBase


def _http_url(value: str) -> str:
    """An http(s) URL without credentials: messages name the URL, so it carries none."""
    scheme, found, rest = value.partition("://")
    if "@" in (rest if found else value).split("/", 1)[0]:
        raise ValueError("credentials do not belong in the URL: use client_secret_file")
    if scheme not in ("http", "https") or not found:
        raise ValueError(f"must start with http:// or https://, got {value!r}")
    return value.rstrip("/")


class Os2moSource(SourceConfigBase):
    type: Literal["os2mo"]
    url: str = Field(description="OS2mo's base URL; GraphQL at {url}/graphql/v{version}")
    version: Literal[29, 30] = Field(29, description="the GraphQL API version, pinned")
    token_url: str = Field(description="Keycloak's token endpoint for the client")
    client_id: str
    client_secret_file: Path
    tls_ca_file: Path | None = None
    tls_verify: bool = True
    from_days_back: int = Field(
        31, ge=0, description="records that ended more than this many days ago are not read")
    page_size: int = Field(1000, gt=0, description="objects asked for per page")
    cpr: bool = Field(False, description="keep each person's CPR number in extra.cpr")
    timeout: float = Field(60.0, gt=0, description="seconds per request")
    retries: int = Field(2, ge=0, description="extra attempts on connect errors and 5xx")
    token_leeway: float = Field(
        30.0, ge=0, description="seconds before a token's expiry that a new one is asked for")

    _urls = field_validator("url", "token_url")(_http_url)

    @property
    def graphql_url(self) -> str:
        return f"{self.url}/graphql/v{self.version}"

    def where(self) -> str:
        return self.graphql_url
