"""A database SQLAlchemy reaches (PostgreSQL, SQLite, MS SQL, Oracle), one query per kind."""

from __future__ import annotations

from syncd.org import Snapshot
from syncd.sources.sql.config import SqlKind, SqlSource


def read_sql_source(config: SqlSource) -> Snapshot:
    """Read the database; the reader (and SQLAlchemy) loads only when one is read, so
    that a command that reads no source starts without it."""
    from syncd.sources.sql.reader import read_sql_source as read

    return read(config)


__all__ = ["SqlKind", "SqlSource", "read_sql_source"]
