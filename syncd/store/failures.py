"""Store failures as errors a sysadmin can act on: which store, what is wrong, what to do.

Only the store uses SQLAlchemy, so its errors are translated here, at the store's boundary
(every `Store` method and `open_store`), into one line without a traceback. The engine hides
statement parameters (`hide_parameters`) and only the database's own first line is kept:
HR's personal data never reaches a message or a log, only the kind and id of a record.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import URL, Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from syncd.errors import StoreError

# (words in the database's message, what is wrong, what to do)
_KNOWN: list[tuple[tuple[str, ...], str, str]] = [
    (("readonly database",), "it is read-only",
     "give the user syncd runs as write access to the file and its folder (SQLite writes "
     "-wal and -shm files beside it); `syncd show` and `syncd plan` need only read access"),
    (("unable to open database file",), "it cannot be opened",
     "check that the file and its folder exist and that the user syncd runs as may read "
     "them (and write them, to ingest or apply)"),
    (("malformed", "not a database"), "it is damaged",
     "restore it from a backup; it also records which directory entries syncd owns, so "
     "an empty new store is no substitute"),
    (("disk is full",), "its disk is full",
     "free space on the file system that holds it and run again; the failed change was "
     "not kept"),
    (("database is locked",), "another process kept it locked too long",
     "run again once the other syncd is done"),
    (("disk i/o error",), "reading or writing it failed (disk I/O error)",
     "check the disk and the file system that hold it"),
]


def store_name(url: URL) -> str:
    """The store as a sysadmin knows it: the SQLite file, or the URL without password."""
    if url.get_backend_name() == "sqlite":
        return (url.database or ":memory:").removeprefix("file:")
    return url.set(query={}).render_as_string(hide_password=True)


def describe(exc: SQLAlchemyError, store: str, doing: str = "") -> StoreError:
    """One line: the store, what is wrong (while doing what), and what to do about it."""
    reason = _first_line(exc)
    during = f" (while {doing})" if doing else ""
    for words, problem, advice in _KNOWN:
        if any(word in reason.lower() for word in words):
            return StoreError(f"the store {store}: {problem}{during}; {advice}")
    return StoreError(f"the store {store} failed{during}: {reason}")


def _first_line(exc: SQLAlchemyError) -> str:
    """The database's own message, first line only (PostgreSQL's DETAIL names values)."""
    original = getattr(exc, "orig", None) or exc
    return (str(original).strip().splitlines() or ["unknown error"])[0]


@contextmanager
def store_errors(bind: Engine | Connection, doing: str = "") -> Iterator[None]:
    """SQLAlchemy errors in the block become a StoreError naming the store (and `doing`:
    a kind and id, never a value), chained to the original for debugging."""
    try:
        yield
    except SQLAlchemyError as exc:
        raise describe(exc, store_name(bind.engine.url), doing) from exc
