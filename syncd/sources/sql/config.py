"""The config of a SQL source: a database SQLAlchemy reaches, and one query per kind."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Literal

from pydantic import Field, field_validator, model_validator
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from syncd.config.secrets import env_ref_only
from syncd.dateformat import check_date_format
from syncd.logs import redact
from syncd.sources.config_base import SourceConfigBase
from syncd.sources.fieldmap import TRUE_VALUES, FieldMapping, KindName, known_fields

MAX_STATEMENT_TIMEOUT = 2_147_483.0  # PostgreSQL's largest, in seconds (2^31 - 1 ms)


class SqlKind(FieldMapping):
    query: str = Field(description="SELECT giving one row per record; columns as in fields")

    @field_validator("query")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("an empty query")
        return value

    def first_line(self) -> str:
        """How errors name the query: its first line that is not blank."""
        return next(line.strip() for line in self.query.splitlines() if line.strip())


class SqlSource(SourceConfigBase):
    type: Literal["sql"]
    url: str = Field(description="SQLAlchemy URL without the password, e.g. "
                                 "postgresql+psycopg://syncd@db.example.org/hr")
    password_file: Path | None = None
    password: str | None = None
    date_format: str = "%Y-%m-%d"
    true_values: list[str] = Field(default_factory=lambda: list(TRUE_VALUES))
    list_separator: str = "|"
    batch: int = Field(1000, gt=0, description="rows fetched from the server at a time")
    timeout: float = Field(30.0, gt=0, description="seconds to connect (PostgreSQL: whole "
                                                   "seconds, at least 2; SQLite: to wait for a "
                                                   "lock)")
    statement_timeout: float = Field(
        300.0, gt=0, le=MAX_STATEMENT_TIMEOUT,
        description="seconds the read may take on PostgreSQL before the server cancels it")
    kinds: dict[KindName, SqlKind]

    local_paths: ClassVar[tuple[str, ...]] = ("password_file",)

    _fields = field_validator("kinds")(known_fields)
    _date_format = field_validator("date_format")(check_date_format)
    _env = field_validator("password")(env_ref_only)

    @field_validator("url")
    @classmethod
    def _no_password(cls, value: str) -> str:
        """The password comes from password_file or ${env:NAME}; no message echoes a URL
        that carries one."""
        try:
            url = make_url(value)  # as the reader parses it: a "/" in a password included
        except ArgumentError:
            raise ValueError("want a SQLAlchemy URL, dialect+driver://user@host/database"
                             ) from None
        if url.password is not None or "password" in url.query:
            raise ValueError("a password does not belong in the URL: use password_file or "
                             "password: ${env:NAME}")
        return value

    @model_validator(mode="after")
    def _one_password(self) -> SqlSource:
        if self.password_file is not None and self.password is not None:
            raise ValueError("give at most one of password_file or password (${env:NAME})")
        return self

    def where(self) -> str:
        return redact(self.url)
