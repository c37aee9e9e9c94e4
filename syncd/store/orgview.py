"""The org's records as the store holds them, for the org view (syncd.orgview)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from syncd.org import KINDS, field_names
from syncd.store.schema import org_tables


def _load(conn: Connection, kind: str) -> list[Any]:
    table = org_tables[kind]
    record_type = KINDS[kind]
    columns = [table.c[name] for name in field_names(kind)]
    return [record_type(*row) for row in conn.execute(select(*columns).order_by(table.c.id))]


def load_records(conn: Connection) -> dict[str, list[Any]]:
    """Every record in the store, by kind."""
    return {kind: _load(conn, kind) for kind in KINDS}
