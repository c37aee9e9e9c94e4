"""The config of an OS2mo source: its GraphQL API, the Keycloak client it reads as."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

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


def _known_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"no such time zone {value!r}; want one like Europe/Copenhagen"
                         ) from None
    return value


class Os2moSource(SourceConfigBase):
    type: Literal["os2mo"]
    url: str = Field(description="OS2mo's base URL; GraphQL at {url}/graphql/v{version}")
    version: Literal[29, 30] = Field(29, description="the GraphQL API version, pinned")
    token_url: str = Field(description="Keycloak's token endpoint for the client")
    client_id: str
    client_secret_file: Path
    tls_ca_file: Path | None = Field(
        None, description="a private CA trusted beside the system's (for OS2mo and Keycloak)")
    tls_verify: bool = True
    from_days_back: int = Field(
        31, ge=0, description="records that ended more than this many days ago are not read")
    page_size: int = Field(1000, gt=0, description="objects asked for per page")
    cpr: bool = Field(False, description="keep each person's CPR number in extra.cpr")
    timeout: float = Field(
        300.0, gt=0, description="seconds per request (OS2mo gives a query five minutes)")
    retries: int = Field(
        2, ge=0, description="extra attempts on connect errors and 5xx (not on a request "
                             "that timed out: OS2mo may still be working on it)")
    timezone: str = Field("Europe/Copenhagen",
                          description="the time zone whose days OS2mo's timestamps fall on")
    token_leeway: float = Field(
        30.0, ge=0, description="seconds before a token's expiry that a new one is asked for")

    local_paths: ClassVar[tuple[str, ...]] = ("client_secret_file", "tls_ca_file")

    _urls = field_validator("url", "token_url")(_http_url)
    _zone = field_validator("timezone")(_known_zone)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)  # ZoneInfo keeps each zone it has loaded

    @property
    def graphql_url(self) -> str:
        return f"{self.url}/graphql/v{self.version}"

    def where(self) -> str:
        return self.graphql_url
