"""The org store: the last good snapshot, what changed in it, and as-of queries.

SQLite by default; any SQLAlchemy URL (PostgreSQL via psycopg) is a config change.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, make_url, select
from sqlalchemy.exc import SQLAlchemyError

from syncd.errors import StoreError
from syncd.objects import Owned
from syncd.org import Snapshot
from syncd.store.accept import accept
from syncd.store.accounts import (
    AuditEntry,
    forget_accounts,
    load_accounts,
    person_accounts,
    person_audit,
    save_accounts,
    taken_usernames,
    write_audit,
)
from syncd.store.ingest import IngestResult, KindDelta, ShrinkRefused, take_snapshot
from syncd.store.locks import Busy, lease, renew
from syncd.store.orgview import OrgView, UnitManager
from syncd.store.schema import SCHEMA_VERSION, current_version, ingests, migrate

INGEST = "ingest"  # the lease that keeps ingests (and reads of the org) apart
LEASE_WAIT = 60.0  # seconds to wait for another ingest (well inside systemd's stop timeout)


class Store:
    """One org store; open it with `open_store`."""

    def __init__(self, engine: Engine, read_only: bool = False):
        self.engine = engine
        self.read_only = read_only  # no leases either: a reader that writes nothing

    def ingest(
        self, snapshot: Snapshot, sources: str, max_shrink: float, force: bool = False
    ) -> IngestResult:
        """Check and take `snapshot` whole, or raise and leave the store as it was."""
        rows = accept(snapshot)
        with self.lease(INGEST, wait=LEASE_WAIT), self.engine.begin() as conn:
            return take_snapshot(conn, rows, sources, max_shrink, force)

    def org(self, day: date) -> OrgView:
        """The org on `day`, never half of one ingest and half of another."""
        with self.lease(INGEST, wait=LEASE_WAIT), self.engine.connect() as conn:
            return OrgView(conn, day)

    def last_ingest(self) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(ingests).order_by(ingests.c.id.desc()).limit(1)).first()
        return dict(row._mapping) if row else None

    # --- what syncd owns in each target (see accounts.py) ---------------------------

    def accounts(self, target: str) -> dict[tuple[str, str], Owned]:
        with self.engine.connect() as conn:
            return load_accounts(conn, target)

    def taken_usernames(self, target: str) -> set[str]:
        with self.engine.connect() as conn:
            return taken_usernames(conn, target)

    def save_accounts(self, items: list[Owned]) -> None:
        """Write registry rows in one transaction (reservations before creating)."""
        with self.engine.begin() as conn:
            save_accounts(conn, items)

    def record(self, entry: AuditEntry, account: Owned | None = None,
               forget: tuple[str, str] | None = None) -> None:
        """One applied (or refused) change: its audit row and registry update, together."""
        with self.engine.begin() as conn:
            write_audit(conn, [entry])
            if account is not None:
                save_accounts(conn, [account])
            if forget is not None:
                forget_accounts(conn, entry.target, [forget])

    def person_accounts(self, person_id: str) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            return person_accounts(conn, person_id)

    def person_audit(self, person_id: str, limit: int = 10) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            return person_audit(conn, person_id, limit)

    def lease(self, name: str, wait: float = 0.0) -> AbstractContextManager[None]:
        """Hold `name` against every other process using this store (see locks.py)."""
        return nullcontext() if self.read_only else lease(self.engine, name, wait)

    def target_lease(self, target: str) -> AbstractContextManager[None]:
        """One apply per target at a time, across processes; Busy at once if taken."""
        return lease(self.engine, f"target {target}")

    def renew_lease(self, target: str) -> None:
        renew(self.engine, f"target {target}")

    def schema_version(self) -> int:
        with self.engine.connect() as conn:
            return current_version(conn)

    def close(self) -> None:
        self.engine.dispose()


def open_store(url: str, *, read_only: bool = False) -> Store:
    """Connect, create the sqlite folder if needed, and migrate to the current schema.

    `read_only` (what `syncd validate` uses) writes nothing at all: no folder, no
    migration, SQLite opened in read-only mode; a store of another schema version is
    a StoreError.
    """
    sqlite_file = url.startswith("sqlite:///") and url != "sqlite:///:memory:"
    if sqlite_file and not read_only:
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    if sqlite_file and read_only:
        url = f"sqlite:///file:{url.removeprefix('sqlite:///')}?mode=ro&uri=true"
    try:
        engine = create_engine(url)
        if engine.dialect.name == "sqlite" and not read_only:
            event.listen(engine, "connect", _sqlite_pragmas)
        with engine.begin() as conn:
            if not read_only:
                migrate(conn)
            elif (version := current_version(conn)) != SCHEMA_VERSION:
                raise StoreError(f"the store has schema version {version}, this syncd "
                                 f"writes {SCHEMA_VERSION}")
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot open the store {_safe(url)}: {exc.__class__.__name__}: "
                         f"{getattr(exc, 'orig', exc)}") from exc
    return Store(engine, read_only)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    """WAL lets `syncd show` read while the daemon writes; wait rather than fail on a lock."""
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _safe(url: str) -> str:
    """The URL without its password, for messages."""
    try:
        return make_url(url).set(query={}).render_as_string(hide_password=True)
    except Exception:
        return "(unparsable URL)"


__all__ = [
    "SCHEMA_VERSION",
    "AuditEntry",
    "Busy",
    "IngestResult",
    "KindDelta",
    "OrgView",
    "ShrinkRefused",
    "Store",
    "UnitManager",
    "open_store",
]
