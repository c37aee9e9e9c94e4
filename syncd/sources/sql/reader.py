"""Reading a SQL source: one query per kind, in one read-only transaction.

The password is set on the parsed URL (never formatted into it), and every message
shows the URL with the password masked. Rows are streamed from a server-side cursor
in batches, so 100k rows are not held by the driver and by the snapshot at once. All
kinds are read in one transaction, so they agree with each other as of one moment. A
server that does not answer is given up on after `timeout`, and on PostgreSQL a read
that runs past `statement_timeout` is cancelled by the server itself.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Engine, create_engine
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.pool import NullPool

from syncd.config.secrets import read_secret
from syncd.errors import SourceError, SyncdError
from syncd.logs import redact
from syncd.org import Snapshot
from syncd.sources.fieldmap import FieldMap
from syncd.sources.sql.config import SqlKind, SqlSource

# Statements that make the transaction read-only, where the dialect has one (PostgreSQL's
# is an execution option instead). MS SQL has none: give the account SELECT only.
READ_ONLY = {
    "sqlite": "PRAGMA query_only = ON",
    "oracle": "SET TRANSACTION READ ONLY",
    "mysql": "SET TRANSACTION READ ONLY",
    "mariadb": "SET TRANSACTION READ ONLY",
}
# The driver's connect argument for how long to wait for a connection, and what it takes.
CONNECT_TIMEOUT: dict[str, tuple[str, Callable[[float], float]]] = {
    "psycopg": ("connect_timeout", math.ceil),  # libpq: whole seconds
    "psycopg2": ("connect_timeout", math.ceil),
    "pysqlite": ("timeout", float),  # how long to wait for another's lock on the file
}


def read_sql_source(source: SqlSource) -> Snapshot:
    url, password = _url(source)
    shown = redact(url.render_as_string(hide_password=True))
    reader = _Reader(source, shown, password)
    try:
        engine = create_engine(url, poolclass=NullPool, hide_parameters=True,
                               connect_args=_connect_args(url, source.timeout))
    except (NoSuchModuleError, ImportError) as exc:
        raise SourceError(f"{source.name}: {shown}: no driver for {url.drivername} "
                          f"({reader.reason(exc)}); install the one the URL names") from None
    try:
        return reader.read(engine)
    finally:
        engine.dispose()


def _connect_args(url: URL, timeout: float) -> dict[str, Any]:
    known = CONNECT_TIMEOUT.get(url.get_driver_name())
    if known is None:
        return {}
    name, convert = known
    return {name: convert(timeout)}


def _url(source: SqlSource) -> tuple[URL, str | None]:
    try:
        url = make_url(source.url)
    except ArgumentError as exc:
        raise SourceError(f"{source.name}: url: {exc}") from None
    if source.password_file is None and source.password is None:
        return url, None
    try:
        password = read_secret(source.password_file, source.password,
                               what=f"{source.name}: password").get_secret_value()
    except SyncdError as exc:
        raise SourceError(str(exc)) from None
    return url.set(password=password), password


class _Reader:
    """Runs each kind's query; every failure a SourceError naming the source, the
    kind and the query's first line, never the password."""

    def __init__(self, source: SqlSource, shown: str, password: str | None):
        self.source = source
        self.shown = shown
        self.password = password

    def read(self, engine: Engine) -> Snapshot:
        try:
            connection = engine.connect()
        except SQLAlchemyError as exc:
            raise SourceError(f"{self.source.name}: cannot connect to {self.shown}: "
                              f"{self.reason(exc)}") from None
        with connection:
            read_only = _read_only(connection)
            try:
                with read_only.begin():
                    self._prepare(read_only)
                    return self._kinds(read_only)
            except SQLAlchemyError as exc:  # starting or ending the transaction
                raise SourceError(f"{self.source.name}: {self.shown}: the read-only "
                                  f"transaction: {self.reason(exc)}") from None

    def _prepare(self, connection: Connection) -> None:
        """Make the transaction read-only where a statement does, and bound it in time
        where the server can."""
        dialect = connection.dialect.name
        if statement := READ_ONLY.get(dialect):
            connection.exec_driver_sql(statement)
        if dialect == "postgresql":
            milliseconds = round(self.source.statement_timeout * 1000)
            connection.exec_driver_sql(f"SET LOCAL statement_timeout = {milliseconds}")

    def _kinds(self, connection: Connection) -> Snapshot:
        snapshot = Snapshot()
        for kind, spec in self.source.kinds.items():
            try:
                snapshot.records[kind] = self._rows(connection, kind, spec)
            except SQLAlchemyError as exc:
                raise SourceError(f"{self._where(kind, spec)}: {self.reason(exc)}") from None
            snapshot.origin[kind] = f"{self.shown} ({kind} query)"
        return snapshot

    def _rows(self, connection: Connection, kind: str, spec: SqlKind) -> list[dict[str, Any]]:
        fieldmap = FieldMap.of(kind, spec, self.source)
        # to the driver as written (no_parameters: a % or :word in it is no placeholder)
        options = connection.execution_options(yield_per=self.source.batch, no_parameters=True)
        result = options.exec_driver_sql(spec.query)
        columns = list(result.keys())
        fieldmap.check_header(columns, self._where(kind, spec), has="the query gives")
        return [fieldmap.record({name: _plain(value)
                                 for name, value in zip(columns, row, strict=True)})
                for row in result]

    def _where(self, kind: str, spec: SqlKind) -> str:
        return f"{self.source.name}: {kind}: query {spec.first_line()!r}"

    def reason(self, exc: BaseException) -> str:
        """The database's own words, first line only (not SQLAlchemy's [SQL: ...] and
        link), with the password masked should a driver ever echo it."""
        cause = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
        lines = [line.strip() for line in str(cause).splitlines() if line.strip()]
        words = lines[0] if lines else type(cause).__name__
        return words.replace(self.password, "***") if self.password else words


def _read_only(connection: Connection) -> Connection:
    """PostgreSQL starts the transaction READ ONLY itself when asked by this option."""
    if connection.dialect.name == "postgresql":
        return connection.execution_options(postgresql_readonly=True)
    return connection


def _plain(value: Any) -> Any:
    """Drivers' types as the field mapping reads them: a uuid column's value as its
    text, a NUMERIC id (Oracle's NUMBER, MS SQL's DECIMAL) as a whole number."""
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return int(value)
    return value
