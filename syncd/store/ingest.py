"""Take an accepted snapshot into the store in one transaction and record the delta.

The delta (added, changed, removed per kind) is what later stages work on, and it is
also the shrink guard's evidence: a truncated HR export must never empty a directory.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import Connection, bindparam, delete, insert, select, update

from syncd.errors import ShrinkRefused
from syncd.org import KINDS, field_names
from syncd.store.accept import Row, Rows
from syncd.store.failures import store_errors
from syncd.store.schema import ingests, org_tables, record_changes

_T = TypeVar("_T")
CHUNK = 5_000
KEEP_INGESTS = 50  # record_changes of older ingests are pruned


@dataclass
class KindDelta:
    total: int = 0
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        return {"total": self.total, "added": len(self.added), "changed": len(self.changed),
                "removed": len(self.removed)}


@dataclass
class IngestResult:
    ingest_id: int | None
    deltas: dict[str, KindDelta]

    @property
    def changed(self) -> bool:
        return any(d.added or d.changed or d.removed for d in self.deltas.values())

    def summary(self) -> str:
        parts = []
        for kind, delta in self.deltas.items():
            c = delta.counts
            if c["added"] or c["changed"] or c["removed"]:
                parts.append(f"{kind} +{c['added']} ~{c['changed']} -{c['removed']}")
        return ", ".join(parts) if parts else "no change"


def take_snapshot(
    conn: Connection, rows: Rows, sources: str, max_shrink: float, force: bool
) -> IngestResult:
    """Diff `rows` against the store, guard the shrink, then write; caller owns the transaction."""
    deltas = compare_snapshot(conn, rows, None if force else max_shrink).deltas
    if not any(d.added or d.changed or d.removed for d in deltas.values()):
        return IngestResult(None, deltas)
    for kind, delta in deltas.items():
        with store_errors(conn, f"writing the {kind}"):
            _write(conn, kind, delta, rows[kind])
    inserted = conn.execute(
        insert(ingests).values(
            finished_at=datetime.now(UTC), sources=sources, forced=force,
            counts={kind: d.counts for kind, d in deltas.items()},
        )
    ).inserted_primary_key
    assert inserted is not None  # one row inserted: its key is known
    ingest_id = inserted[0]
    _record_changes(conn, ingest_id, deltas)
    _prune(conn, ingest_id)
    return IngestResult(ingest_id, deltas)


def compare_snapshot(conn: Connection, rows: Rows, max_shrink: float | None) -> IngestResult:
    """What taking `rows` would change, per kind, writing nothing; ShrinkRefused past
    `max_shrink` (None: no limit, a forced ingest)."""
    deltas = {kind: _diff(_stored(conn, kind), rows[kind]) for kind in KINDS}
    if max_shrink is not None:
        _guard_shrink(deltas, max_shrink)
    return IngestResult(None, deltas)


def _stored(conn: Connection, kind: str) -> dict[str, Row]:
    table = org_tables[kind]
    columns = [table.c[name] for name in field_names(kind)]
    return {row[0]: tuple(row) for row in conn.execute(select(*columns))}


def _diff(before: dict[str, Row], after: dict[str, Row]) -> KindDelta:
    delta = KindDelta(total=len(after))
    delta.removed = sorted(before.keys() - after.keys())
    for ident, row in after.items():
        old = before.get(ident)
        if old is None:
            delta.added.append(ident)
        elif old != row:
            delta.changed.append(ident)
    return delta


def _guard_shrink(deltas: dict[str, KindDelta], max_shrink: float) -> None:
    tripped = []
    for kind, delta in deltas.items():
        before = delta.total + len(delta.removed) - len(delta.added)
        if before and len(delta.removed) / before > max_shrink:
            tripped.append(
                f"{kind}: {len(delta.removed)} of {before} would be removed "
                f"({len(delta.removed) / before:.1%} > {max_shrink:.0%})"
            )
    if tripped:
        raise ShrinkRefused(
            "snapshot refused by safety.source_max_shrink: " + "; ".join(tripped)
            + ". The store keeps the last good snapshot. If this is right, run "
            "`syncd ingest --force`."
        )


def _write(conn: Connection, kind: str, delta: KindDelta, rows: dict[str, Row]) -> None:
    table = org_tables[kind]
    names = field_names(kind)
    for chunk in _chunks(delta.removed):
        conn.execute(delete(table).where(table.c.id.in_(chunk)))
    if delta.changed:
        statement = (
            update(table)
            .where(table.c.id == bindparam("_id"))
            .values({name: bindparam(name) for name in names[1:]})
        )
        for chunk in _chunks(delta.changed):
            conn.execute(statement, [_params(names, rows[i], key="_id") for i in chunk])
    for chunk in _chunks(delta.added):
        conn.execute(insert(table), [dict(zip(names, rows[i], strict=True)) for i in chunk])


def _params(names: list[str], row: Row, key: str) -> dict[str, Any]:
    params = dict(zip(names, row, strict=True))
    params[key] = params.pop("id")
    return params


def _record_changes(conn: Connection, ingest_id: int, deltas: dict[str, KindDelta]) -> None:
    entries = [
        {"ingest_id": ingest_id, "kind": kind, "record_id": ident, "change": change}
        for kind, delta in deltas.items()
        for change in ("added", "changed", "removed")
        for ident in getattr(delta, change)
    ]
    for chunk in _chunks(entries):
        conn.execute(insert(record_changes), chunk)


def _prune(conn: Connection, ingest_id: int) -> None:
    old = record_changes.c.ingest_id <= ingest_id - KEEP_INGESTS
    conn.execute(delete(record_changes).where(old))


def _chunks(items: Sequence[_T]) -> Iterator[Sequence[_T]]:
    for start in range(0, len(items), CHUNK):
        yield items[start:start + CHUNK]
