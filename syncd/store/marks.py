"""What lets a cycle that has nothing to do stop early, kept in `syncd_meta` as JSON:
what a target's last full no-change cycle saw (the store's data version, that is the
last ingest that changed a record; the target's marker; the day; the config), and the
fingerprint of the source files the last accepted ingest read."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select

from syncd.store.schema import accounts, meta, record_changes


def last_ingest(conn: Connection) -> int:
    """The last ingest that added, changed or removed a record (0: none yet)."""
    return int(conn.execute(select(func.max(record_changes.c.ingest_id))).scalar() or 0)


def data_version(conn: Connection, target: str) -> dict[str, Any]:
    """The last ingest that changed a record, and the registry: the target's own rows
    (a cycle that only settles rows is not one with nothing to do) and the last write
    to every other target's (a mapping reads their accounts as `it_users`)."""
    def registry(where: Any) -> str:
        count, last = conn.execute(select(func.count(), func.max(accounts.c.updated_at))
                                   .where(where)).one()
        return f"{count} rows, last {last}"

    return {"ingest": last_ingest(conn), "own": registry(accounts.c.target == target),
            "others": registry(accounts.c.target != target)}


SOURCES = "sources"  # the key of the sources' fingerprint


def target_key(target: str) -> str:
    """A target's row: a target name may be longer than the key column takes."""
    return "unchanged:" + hashlib.sha256(target.encode()).hexdigest()[:40]


def load_marks(conn: Connection, key: str) -> Any:
    value = conn.execute(select(meta.c.value).where(meta.c.key == key)).scalar()
    return json.loads(value) if value else None


def save_marks(conn: Connection, key: str, marks: Any) -> None:
    """Remember `marks` under `key` (None: forget them: the next cycle is a full one)."""
    conn.execute(delete(meta).where(meta.c.key == key))
    if marks is not None:
        conn.execute(insert(meta).values(key=key, value=json.dumps(marks)))
