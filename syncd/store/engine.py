"""The store's SQLAlchemy engine: private SQLite files, real transactions, no parameters.

pysqlite runs DDL outside any transaction and starts one only before a write, so two
processes creating a new store raced and a kill left half a schema. SQLAlchemy's pysqlite
recipe (docs: "Serializable isolation / Savepoints / Transactional DDL") hands the
transaction to us: the driver's own handling is off and the "begin" event emits BEGIN.
`engine.begin()` on the writer takes the write lock at once (BEGIN IMMEDIATE): a
transaction that read first and wrote later would otherwise fail at once ("database is
locked") when another process wrote in between; readers use a plain BEGIN and are never
kept waiting (WAL).
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

import tenacity
from sqlalchemy import Connection, Engine, create_engine, event

from syncd.errors import StoreError
from syncd.retry import policy

WAL_TRIES = 60  # about 10 s of waits for another process creating the store
BEGIN = "syncd_sqlite_begin"  # execution option: "IMMEDIATE" or "" (deferred)
BUSY_TIMEOUT_MS = 30_000


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite store URL; None for other databases and :memory:."""
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        return Path(url.removeprefix("sqlite:///"))
    return None


def make_engine(url: str, read_only: bool) -> Engine:
    """An engine whose errors never show statement parameters (personal data)."""
    path = sqlite_path(url)
    if path is not None and read_only:
        if not path.exists():
            raise StoreError(f"the store {path} does not exist yet; `syncd ingest` creates it")
        url = f"sqlite:///file:{path}?mode=ro{_immutable(path)}&uri=true"
    elif path is not None:
        private_file(path)
    engine = create_engine(url, hide_parameters=True)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_connect_writable if not read_only
                     else _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
    return engine


def _immutable(path: Path) -> str:
    """In a folder this process cannot write, SQLite cannot make the -shm file a reader
    of a WAL store needs; with none there, no process writes the store (writers need it
    too), so it is read as an unchanging file."""
    shm = path.with_name(path.name + "-shm")
    return "" if os.access(path.parent, os.W_OK) or shm.exists() else "&immutable=1"


def writer(engine: Engine) -> Engine:
    """The same engine, whose transactions take SQLite's write lock when they begin."""
    return engine.execution_options(**{BEGIN: "IMMEDIATE"})


def private_file(path: Path) -> None:
    """Create the SQLite file 0600 before SQLite does: it holds personal data, and SQLite
    gives its -wal and -shm files the database file's mode."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except FileExistsError:
        pass
    except OSError as exc:
        raise StoreError(f"cannot create the store {path}: {exc.strerror}") from None


def _sqlite_connect(dbapi_conn: Any, _record: Any) -> None:
    """Transactions are ours (see `_sqlite_begin`); wait for a lock rather than fail."""
    dbapi_conn.isolation_level = None
    cursor = dbapi_conn.cursor()
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.close()


def _sqlite_connect_writable(dbapi_conn: Any, record: Any) -> None:
    """WAL lets `syncd show` read while the daemon writes. The busy timeout comes first:
    switching a new file to WAL takes a lock another process may hold."""
    _sqlite_connect(dbapi_conn, record)
    cursor = dbapi_conn.cursor()
    # the switch needs the file to itself for a moment, and SQLite answers "locked" at
    # once instead of waiting when another process is creating it too
    policy(WAL_TRIES, first=0.01, most=0.25, on_retry=lambda state: None,
           retry=tenacity.retry_if_exception(_locked))(cursor.execute, "PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _locked(exc: BaseException) -> bool:
    return isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc)


def _sqlite_begin(conn: Connection) -> None:
    conn.exec_driver_sql(f"BEGIN {conn.get_execution_options().get(BEGIN, '')}".strip())
