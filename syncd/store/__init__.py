"""The org store: the last good snapshot, what changed in it, and as-of queries.

SQLite by default; any SQLAlchemy URL (PostgreSQL via psycopg) is a config change.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import date
from typing import Any, Concatenate, ParamSpec, TypeVar

from sqlalchemy import Connection, Engine, func, select, union

from syncd.objects import Owned
from syncd.org import Snapshot, Unit
from syncd.orgview import OrgView, UnitManager, records_of
from syncd.store.accept import accept
from syncd.store.accounts import (
    AuditEntry,
    load_accounts,
    person_accounts,
    person_audit,
    person_it_users,
    save_accounts,
    taken_usernames,
    user_accounts,
)
from syncd.store.engine import make_engine, writer
from syncd.store.failures import store_errors, store_name
from syncd.store.ingest import (
    IngestResult,
    KindDelta,
    ShrinkRefused,
    compare_snapshot,
    take_snapshot,
)
from syncd.store.locks import Busy, lease, release_mine, renew
from syncd.store.marks import (
    SOURCES,
    data_version,
    last_ingest,
    load_marks,
    save_marks,
    target_key,
)
from syncd.store.orgview import load_around, load_records
from syncd.store.recorder import Recorder
from syncd.store.schema import (
    SCHEMA_VERSION,
    OtherSchema,
    accounts,
    current_version,
    ingests,
    migrate,
    org_tables,
)
from syncd.store.web import (
    Found,
    Member,
    all_units,
    load_unit,
    search_persons,
    search_units,
    unit_groups,
    unit_members,
    unit_names,
)

INGEST = "ingest"  # the lease that keeps ingests (and reads of the org) apart
LEASE_WAIT = 60.0  # seconds to wait for another ingest (well inside systemd's stop timeout)

_P = ParamSpec("_P")
_R = TypeVar("_R")


def _translated(method: Callable[Concatenate[Store, _P], _R]
                ) -> Callable[Concatenate[Store, _P], _R]:
    """The store's boundary: a database failure leaves a method as a StoreError."""
    @functools.wraps(method)
    def run(self: Store, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        with store_errors(self.engine):
            return method(self, *args, **kwargs)
    return run


class Store:
    """One org store; open it with `open_store`."""

    def __init__(self, engine: Engine, read_only: bool = False):
        self.engine = engine  # reads; `self.writer` for transactions that write
        self.writer = writer(engine)
        self.read_only = read_only  # no leases either: a reader that writes nothing

    @_translated
    def ingest(
        self, snapshot: Snapshot, sources: str, max_shrink: float, force: bool = False
    ) -> IngestResult:
        """Check and take `snapshot` whole, or raise and leave the store as it was."""
        rows = accept(snapshot)
        with store_errors(self.engine, f"taking the snapshot of {sources}"), \
                self.lease(INGEST, wait=LEASE_WAIT), self.writer.begin() as conn:
            return take_snapshot(conn, rows, sources, max_shrink, force)

    @_translated
    def preview(self, snapshot: Snapshot, max_shrink: float, day: date
                ) -> tuple[IngestResult, OrgView]:
        """What `ingest` would take (ShrinkRefused as it would) and the org it would give
        on `day`, written nowhere: `plan` changes nothing, the store included."""
        rows = accept(snapshot)
        with self.engine.connect() as conn:
            result = compare_snapshot(conn, rows, max_shrink)
        return result, OrgView(records_of(rows), day)

    @_translated
    def org(self, day: date) -> OrgView:
        """The org on `day`, never half of one ingest and half of another: read in one
        transaction that sees one state of the store (the lease keeps a writer's own
        ingest away; a read-only store takes none)."""
        with self.lease(INGEST, wait=LEASE_WAIT), self.engine.connect() as conn:
            view = OrgView(load_records(_one_snapshot(conn)), day)
            view.ingest = last_ingest(conn)
            return view

    @_translated
    def org_around(self, person_id: str, day: date) -> OrgView:
        """The org on `day` as far as `person_id`'s card reads it (`load_around`): a
        handful of indexed queries instead of the whole org, in one snapshot as `org`."""
        with self.lease(INGEST, wait=LEASE_WAIT), self.engine.connect() as conn:
            return OrgView(load_around(_one_snapshot(conn), person_id), day)

    @_translated
    def last_ingest(self) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(ingests).order_by(ingests.c.id.desc()).limit(1)).first()
        return dict(row._mapping) if row else None

    # --- what syncd owns in each target (see accounts.py) ---------------------------

    @_translated
    def accounts(self, target: str) -> dict[tuple[str, str], Owned]:
        with self.engine.connect() as conn:
            return load_accounts(conn, target)

    @_translated
    def user_accounts(self) -> dict[str, list[Owned]]:
        """Every target's users by person id: what a mapping sees of the other targets."""
        with self.engine.connect() as conn:
            return user_accounts(conn)

    @_translated
    def taken_usernames(self, target: str) -> set[str]:
        with self.engine.connect() as conn:
            return taken_usernames(conn, target)

    @_translated
    def save_accounts(self, items: list[Owned]) -> None:
        """Write registry rows in one transaction (reservations before creating)."""
        with store_errors(self.engine, _rows_named(items)), self.writer.begin() as conn:
            save_accounts(conn, items)

    @_translated
    def data_version(self, target: str) -> dict[str, Any]:
        """What changes when the org or the registry does (`store.marks`)."""
        with self.engine.connect() as conn:
            return data_version(conn, target)

    @_translated
    def marks(self, target: str) -> dict[str, Any] | None:
        """What the target's last full cycle with nothing to do saw (`store.marks`)."""
        with self.engine.connect() as conn:
            found: dict[str, Any] | None = load_marks(conn, target_key(target))
            return found

    @_translated
    def save_marks(self, target: str, marks: dict[str, Any] | None) -> None:
        with store_errors(self.engine, f"saving what {target}'s cycle saw"), \
                self.writer.begin() as conn:
            save_marks(conn, target_key(target), marks)

    @_translated
    def sources_unchanged(self, fingerprint: str) -> bool:
        """Whether the last accepted ingest read source files of this fingerprint; asked
        under the ingest lease, as an ingest is (so a store no one may write refuses
        it here too)."""
        with self.lease(INGEST, wait=LEASE_WAIT), self.engine.connect() as conn:
            return bool(load_marks(conn, SOURCES) == fingerprint)

    @_translated
    def save_source_fingerprint(self, fingerprint: str | None) -> None:
        with store_errors(self.engine, "saving the sources' fingerprint"), \
                self.writer.begin() as conn:
            save_marks(conn, SOURCES, fingerprint)

    def recorder(self) -> Recorder:
        """What an apply records its changes with, in batches (`syncd.store.recorder`)."""
        return Recorder(self.engine, self.writer)

    @_translated
    def person_accounts(self, person_id: str) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            return person_accounts(conn, person_id)

    @_translated
    def person_it_users(self, person_id: str) -> list[dict[str, Any]]:
        """Every IT user of the person: syncd's in each target, and the sources'."""
        with self.engine.connect() as conn:
            return person_it_users(conn, person_id)

    @_translated
    def find_persons(self, name: str) -> list[str]:
        """Ids of the persons with `name` (any case) as a username in some target or as
        an email address, so `syncd show person` takes what a helpdesk ticket names
        (both found by the lower-case indexes of schema v6)."""
        wanted = name.lower()
        addresses = org_tables["addresses"].c
        query = union(
            select(accounts.c.key.label("id")).where(
                accounts.c.kind == "user", func.lower(accounts.c.username) == wanted),
            select(addresses.owner.label("id")).where(
                addresses.type == "email", func.lower(addresses.value) == wanted),
        )
        with self.engine.connect() as conn:
            return sorted(row.id for row in conn.execute(query))

    @_translated
    def person_audit(self, person_id: str, limit: int = 10) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            return person_audit(conn, person_id, limit)

    # --- the web view's reads (see web.py): no lease, one snapshot each --------------
    # A page must not wait a minute behind an ingest; one transaction sees one state.

    @_translated
    def ingest_version(self) -> int:
        """The last ingest that changed a record: what a cached unit tree is valid for."""
        with self.engine.connect() as conn:
            return last_ingest(conn)

    @_translated
    def all_units(self) -> list[Unit]:
        with self.engine.connect() as conn:
            return all_units(conn)

    @_translated
    def person_view(self, person_id: str, day: date) -> OrgView:
        """`org_around` for a page: the same records, read without the ingest lease."""
        with self.engine.connect() as conn:
            return OrgView(load_around(_one_snapshot(conn), person_id), day)

    @_translated
    def unit_view(self, unit_id: str, day: date) -> OrgView:
        """The org on `day` as far as the unit's page reads it (`web.load_unit`)."""
        with self.engine.connect() as conn:
            return OrgView(load_unit(_one_snapshot(conn), unit_id), day)

    @_translated
    def unit_members(self, unit_id: str, day: date, offset: int, limit: int
                     ) -> tuple[int, list[Member]]:
        with self.engine.connect() as conn:
            return unit_members(_one_snapshot(conn), unit_id, day, offset, limit)

    @_translated
    def unit_groups(self, unit_id: str) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            return unit_groups(conn, unit_id)

    @_translated
    def unit_names(self, unit_ids: list[str]) -> dict[str, str]:
        with self.engine.connect() as conn:
            return unit_names(conn, unit_ids)

    @_translated
    def search(self, text: str, day: date, visibility: tuple[str, ...], offset: int,
               limit: int, whole_usernames: bool = False) -> tuple[list[Found], list[Unit]]:
        """Persons and units `text` finds (`web.search_persons`, `web.search_units`)."""
        with self.engine.connect() as conn:
            return (search_persons(conn, text, day, visibility, offset, limit,
                                   whole_usernames),
                    search_units(conn, text, offset, limit))

    @contextmanager
    def lease(self, name: str, wait: float = 0.0) -> Iterator[None]:
        """Hold `name` against every other process using this store (see locks.py)."""
        if self.read_only:
            yield
            return
        with store_errors(self.engine, f"taking the {name} lease"), \
                lease(self.writer, name, wait):
            yield

    def target_lease(self, target: str) -> AbstractContextManager[None]:
        """One apply per target at a time, across processes; Busy at once if taken."""
        return self.lease(f"target {target}")

    @_translated
    def renew_lease(self, target: str) -> None:
        renew(self.writer, f"target {target}")

    @_translated
    def release_my_leases(self) -> None:
        """Every lease of this process let go (it is about to exit with stuck threads)."""
        if not self.read_only:
            release_mine(self.writer)

    @_translated
    def schema_version(self) -> int:
        with self.engine.connect() as conn:
            return current_version(conn)

    def close(self) -> None:
        self.engine.dispose()


def _one_snapshot(conn: Connection) -> Connection:
    """Every read of `conn` sees the store as it was at the first: SQLite's transaction
    (see engine.py) does that already, PostgreSQL's default isolation does not."""
    if conn.dialect.name == "postgresql":
        conn.execution_options(isolation_level="REPEATABLE READ")
    return conn


def _rows_named(items: list[Owned]) -> str:
    """The registry rows being saved, by kind and key (one) or count (many)."""
    if len(items) == 1:
        return f"saving {items[0].kind} {items[0].key} of {items[0].target}"
    return f"saving {len(items)} registry rows"


def open_store(url: str, *, read_only: bool = False) -> Store:
    """Connect, create the sqlite file (0600) and folder if needed, and migrate to the
    current schema in one transaction under the write lock: processes opening a new store
    at once wait for each other, and a kill leaves no half-built schema.

    `read_only` (`validate`, `show`, `plan`) writes nothing at all: no file, no migration,
    no lease, SQLite opened in read-only mode; a store of another schema version is
    OtherSchema.
    """
    engine = make_engine(url, read_only)
    store = Store(engine, read_only)
    with store_errors(engine, "opening it"):
        if read_only:
            _same_schema(engine)
        else:
            with store.writer.begin() as conn:
                migrate(conn)
    return store


def _same_schema(engine: Engine) -> None:
    """A reader cannot migrate: a store of another version is OtherSchema."""
    with engine.connect() as conn:
        version = current_version(conn)
    if version != SCHEMA_VERSION:
        upgrade = "; `syncd ingest` upgrades it" if version < SCHEMA_VERSION else ""
        raise OtherSchema(f"the store {store_name(engine.url)} has schema version {version}, "
                          f"this syncd writes {SCHEMA_VERSION}{upgrade}")


__all__ = [
    "SCHEMA_VERSION",
    "AuditEntry",
    "Busy",
    "Found",
    "IngestResult",
    "KindDelta",
    "Member",
    "OrgView",
    "OtherSchema",
    "ShrinkRefused",
    "Store",
    "UnitManager",
    "open_store",
]
