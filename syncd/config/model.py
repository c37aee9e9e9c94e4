"""The assembled configuration: the store, the guards, the schedule, the daemon's HTTP and
logging, and the `sources:` and `targets:` lists, each a union of the types that
syncd.sources.registry and syncd.targets.registry list (picked by `type:`)."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal, Union
from urllib.parse import quote

from pydantic import Field, field_validator, model_validator
from sqlalchemy import make_url
from sqlalchemy.exc import ArgumentError

from syncd.config.base import Model
from syncd.config.schedule import Schedule
from syncd.config.secrets import env_ref_only
from syncd.config.web import WebConfig
from syncd.sources.config_base import SourceConfigBase
from syncd.sources.registry import SOURCE_TYPES
from syncd.targets.config_base import TargetConfigBase
from syncd.targets.registry import TARGET_TYPES

if TYPE_CHECKING:  # a union built at run time is no type to mypy; pydantic picks the member
    Source = SourceConfigBase
    Target = TargetConfigBase
else:
    Source = Annotated[Union[tuple(t.config_model for t in SOURCE_TYPES.values())],  # noqa: UP007
                       Field(discriminator="type")]
    Target = Annotated[Union[tuple(t.config_model for t in TARGET_TYPES.values())],  # noqa: UP007
                       Field(discriminator="type")]


class StoreConfig(Model):
    url: str = Field(
        "sqlite:////var/lib/syncd/store.db",
        description="SQLAlchemy URL; a relative sqlite path is relative to the config file; "
                    "a password only as ${env:NAME}",
    )

    @field_validator("url")
    @classmethod
    def _no_inline_password(cls, value: str) -> str:
        try:
            url = make_url(value)
        except ArgumentError:
            raise ValueError("not a database URL (like sqlite:////var/lib/syncd/store.db or "
                             "postgresql+psycopg://syncd@db/syncd)") from None
        if url.password is not None:
            env_ref_only(str(url.password))
        if any("password" in key.lower() or key.lower() == "dsn" for key in url.query):
            raise ValueError("secrets are never inline: the password goes in the URL as "
                             "${env:NAME}")
        return value

    def resolved_url(self) -> str:
        """The URL with a ${env:NAME} password filled in (never logged)."""
        match = re.search(r"\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}", self.url)
        if not match:
            return self.url
        return self.url.replace(match.group(0), quote(os.environ.get(match.group(1), ""), safe=""))


class Safety(Model):
    """The guards' limits (see syncd.plan.guards for what each one holds back)."""

    max_deletes: int = Field(50, ge=0)
    max_delete_ratio: float = Field(0.1, ge=0, le=1)
    source_max_shrink: float = Field(0.1, ge=0, le=1)
    max_attribute_changes: int = Field(50, ge=0)
    max_attribute_change_ratio: float = Field(0.2, ge=0, le=1)
    hold_all_when_tripped: bool = False


class HttpConfig(Model):
    listen: str = Field("127.0.0.1:9464", description="HOST:PORT, or [IPv6]:PORT")
    token_file: Path | None = None

    @field_validator("listen")
    @classmethod
    def _host_port(cls, value: str) -> str:
        host, _, port = value.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"must be HOST:PORT like 127.0.0.1:9464 or [::1]:9464, "
                             f"got {value!r}")
        return value


class LoggingConfig(Model):
    level: Literal["debug", "info", "warning", "error"] = "info"
    format: Literal["plain", "json"] = "plain"


class Config(Model):
    store: StoreConfig = StoreConfig()
    sources: list[Source] = Field(min_length=1)
    targets: list[Target] = Field(default_factory=list)
    safety: Safety = Safety()
    schedule: Schedule = Schedule()
    http: HttpConfig = HttpConfig()
    logging: LoggingConfig = LoggingConfig()
    web: WebConfig | None = None

    @model_validator(mode="after")
    def _unique_names(self) -> Config:
        for what, items in (("sources", self.sources), ("targets", self.targets)):
            names = [item.name for item in items]
            dupes = sorted({n for n in names if names.count(n) > 1})
            if dupes:
                raise ValueError(f"{what}: names must be unique, repeated: {', '.join(dupes)}")
        return self
