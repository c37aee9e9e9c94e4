"""Tables of the org store and the migrations that build them.

SQLAlchemy Core with portable types only, so the same schema runs on SQLite (default)
and PostgreSQL. The schema version lives in `syncd_meta`; `migrate` applies every
migration above it in the caller's one transaction (on SQLite under the write lock, see
engine.py), so a store is never left half-built or half-upgraded.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Connection,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    select,
    text,
)

from syncd.errors import OtherSchema
from syncd.org import KINDS, FieldType, field_specs

metadata = MetaData()

meta = Table(
    "syncd_meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

_COLUMN_TYPES = {
    FieldType.TEXT: Text,
    FieldType.DATE: Date,
    FieldType.BOOL: Boolean,
    FieldType.TEXT_LIST: JSON,
    FieldType.MAPPING: JSON,
}


def _kind_table(kind: str) -> Table:
    columns: list[Column[Any]] = [
        Column(spec.name, _COLUMN_TYPES[spec.type], primary_key=spec.name == "id",
               nullable=spec.name == "id" or not spec.required)
        for spec in field_specs(kind)
    ]
    indexes = [Index(f"ix_org_{kind}_{spec.name}", spec.name)
               for spec in field_specs(kind) if spec.refers_to]
    return Table(f"org_{kind}", metadata, *columns, *indexes)


org_tables: dict[str, Table] = {kind: _kind_table(kind) for kind in KINDS}

ingests = Table(
    "ingests",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("finished_at", DateTime(timezone=True), nullable=False),
    Column("sources", Text, nullable=False),
    Column("forced", Boolean, nullable=False),
    Column("counts", JSON, nullable=False),  # kind -> {total, added, changed, removed}
)

record_changes = Table(
    "record_changes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("ingest_id", Integer, ForeignKey("ingests.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("record_id", Text, nullable=False),
    Column("change", String(8), nullable=False),  # added | changed | removed
    Index("ix_record_changes_ingest", "ingest_id"),
)


def _accounts(md: MetaData, locator: Column[Any]) -> Table:
    return Table(
        "accounts",
        md,
        Column("target", String(128), primary_key=True),
        Column("kind", String(16), primary_key=True),  # user | group | ou
        Column("key", Text, primary_key=True),  # person id, group key, OU DN
        locator,
        Column("username", Text),
        Column("anchor", Text),  # entryUUID, objectGUID, SCIM id
        Column("state", String(16), nullable=False),  # pending | active | disabled | deleted
        Column("disabled_on", Date),
        Column("updated_at", DateTime(timezone=True), nullable=False),
        Index("ix_accounts_username", "target", "username"),
    )


def _audit(md: MetaData, locator: Column[Any]) -> Table:
    return Table(
        "audit",
        md,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("at", DateTime(timezone=True), nullable=False),
        Column("target", String(128), nullable=False),
        Column("kind", String(16), nullable=False),
        Column("key", Text, nullable=False),
        locator,
        Column("action", String(16), nullable=False),
        Column("attributes", JSON, nullable=False),
        Column("why", Text, nullable=False),
        Column("rule", Text, nullable=False),
        Column("source", Text, nullable=False),
        Column("result", String(8), nullable=False),  # ok | error
        Column("message", Text, nullable=False),
        Index("ix_audit_key", "kind", "key"),
    )


# Where an object is (a DN, a SCIM id): unknown before it exists.
accounts = _accounts(metadata, Column("locator", Text))
audit = _audit(metadata, Column("locator", Text))
# v5: the registry's users are the persons' IT users: since when, found by person.
accounts.append_column(Column("since", Date))  # first created or adopted; never rewritten
Index("ix_accounts_person", accounts.c.kind, accounts.c.key)


locks = Table(
    "locks",
    metadata,
    Column("name", String(128), primary_key=True),  # a target's name
    Column("holder", Text, nullable=False),  # host:pid
    Column("since", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)


_V1_KINDS = [kind for kind in KINDS if kind != "it_users"]  # the kinds v1 made tables for


def _v1(conn: Connection) -> None:
    kinds = [org_tables[kind] for kind in _V1_KINDS]
    metadata.create_all(conn, tables=[meta, *kinds, ingests, record_changes])


def _v2(conn: Connection) -> None:
    """The registry as first released: every object known by its DN."""
    legacy = MetaData()
    tables = [_accounts(legacy, Column("dn", Text, nullable=False)),
              _audit(legacy, Column("dn", Text, nullable=False))]
    legacy.create_all(conn, tables=tables)


def _v3(conn: Connection) -> None:
    metadata.create_all(conn, tables=[locks])


def _v4(conn: Connection) -> None:
    """`dn` becomes `locator`, and may be empty: a SCIM object has an id only once it
    exists. PostgreSQL alters the column; SQLite (no ALTER COLUMN) copies the table
    (the tables as v4 left them: later versions add to them)."""
    v4 = MetaData()
    for table in (_accounts(v4, Column("locator", Text)), _audit(v4, Column("locator", Text))):
        if conn.dialect.name == "postgresql":
            conn.execute(text(f"ALTER TABLE {table.name} RENAME COLUMN dn TO locator"))
            conn.execute(text(f"ALTER TABLE {table.name} ALTER COLUMN locator DROP NOT NULL"))
            continue
        for index in table.indexes:
            conn.execute(text(f"DROP INDEX {index.name}"))
        conn.execute(text(f"ALTER TABLE {table.name} RENAME TO {table.name}_v3"))
        v4.create_all(conn, tables=[table])
        names = ", ".join(c.name for c in table.columns)
        copied = names.replace("locator", "dn")
        conn.execute(text(f"INSERT INTO {table.name} ({names}) "
                          f"SELECT {copied} FROM {table.name}_v3"))
        conn.execute(text(f"DROP TABLE {table.name}_v3"))


def _v5(conn: Connection) -> None:
    """IT users: the `it_users` kind, and the registry's users as IT users (`since`,
    the day a row was first created or adopted: on older rows the day of their last
    update, the best the store knows; and an index to find a person's accounts)."""
    metadata.create_all(conn, tables=[org_tables["it_users"]])
    conn.execute(text("ALTER TABLE accounts ADD COLUMN since DATE"))
    day = ("CAST(updated_at AT TIME ZONE 'UTC' AS DATE)" if conn.dialect.name == "postgresql"
           else "substr(updated_at, 1, 10)")  # SQLite keeps "YYYY-MM-DD HH:MM:SS.ffffff"
    conn.execute(text(f"UPDATE accounts SET since = {day} WHERE state <> 'pending'"))
    conn.execute(text("CREATE INDEX ix_accounts_person ON accounts (kind, key)"))


def _v6(conn: Connection) -> None:
    """`show person` by username or email in any case (`Store.find_persons`) without
    reading the whole registry and every address. (The org's reference columns, which
    `Store.org_around` follows, have had their indexes since v1.)"""
    conn.execute(text("CREATE INDEX ix_accounts_username_lower ON accounts (lower(username))"))
    conn.execute(text("CREATE INDEX ix_org_addresses_value_lower "
                      "ON org_addresses (lower(value))"))


# Append only: a released migration is never edited, a new version is added instead.
MIGRATIONS: list[Callable[[Connection], None]] = [_v1, _v2, _v3, _v4, _v5, _v6]
SCHEMA_VERSION = len(MIGRATIONS)


def current_version(conn: Connection) -> int:
    if not conn.dialect.has_table(conn, meta.name):
        return 0
    value = conn.execute(select(meta.c.value).where(meta.c.key == "schema_version")).scalar()
    return int(value or 0)


def migrate(conn: Connection) -> None:
    """Bring the store to SCHEMA_VERSION; refuse a store made by a newer syncd."""
    version = current_version(conn)
    if version > SCHEMA_VERSION:
        raise OtherSchema(
            f"the store has schema version {version}, this syncd knows up to {SCHEMA_VERSION}:"
            " upgrade syncd or point store.url at another database"
        )
    for number in range(version, SCHEMA_VERSION):
        MIGRATIONS[number](conn)
    if version != SCHEMA_VERSION:
        conn.execute(meta.delete().where(meta.c.key == "schema_version"))
        conn.execute(meta.insert().values(key="schema_version", value=str(SCHEMA_VERSION)))
