"""What syncd owns in each target, and what it did there.

`accounts` is the registry: one row per object syncd created or adopted (users, groups,
OUs), with the username given (kept forever, through disable and re-hire; for a unit's
group, the name it was given, `syncd.mapping.unitnames`), where it was last seen (its
locator: a DN, a SCIM id), the target's own id and when it was disabled. A row is
written *before* the object is created, so a process killed between the two leaves a
reservation the next cycle finishes, never an orphan with a new name. `audit` keeps one
row per applied change.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, Table, and_, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from syncd.objects import DELETED, PENDING, USER, Owned
from syncd.store.schema import accounts, audit, org_tables


@dataclass
class AuditEntry:
    target: str
    kind: str
    key: str
    locator: str | None  # a create the target refused has none
    action: str
    attributes: list[dict[str, Any]]
    why: str
    rule: str
    source: str
    result: str  # ok | error
    message: str = ""


def load_accounts(conn: Connection, target: str) -> dict[tuple[str, str], Owned]:
    rows = conn.execute(select(accounts).where(accounts.c.target == target))
    return {(row.kind, row.key): _owned(row) for row in rows}


def _owned(row: Any) -> Owned:
    return Owned(row.target, row.kind, row.key, row.locator, row.username, row.anchor,
                 row.state, row.disabled_on)


def user_accounts(conn: Connection) -> dict[str, list[Owned]]:
    """Every target's user rows, by person id (by target within), in one query."""
    rows = conn.execute(select(accounts).where(accounts.c.kind == USER)
                        .order_by(accounts.c.key, accounts.c.target))
    by_person: dict[str, list[Owned]] = {}
    for row in rows:
        by_person.setdefault(row.key, []).append(_owned(row))
    return by_person


def taken_usernames(conn: Connection, target: str) -> set[str]:
    """Every username ever given in this target, lower-cased: never given twice. (Groups'
    rows keep their unit group name in the same column; it is no username.)"""
    rows = conn.execute(
        select(accounts.c.username).where(
            and_(accounts.c.target == target, accounts.c.kind == "user",
                 accounts.c.username.is_not(None))
        )
    )
    return {name.lower() for (name,) in rows}


def save_accounts(conn: Connection, items: Iterable[Owned]) -> None:
    """Insert or update registry rows, one upsert each (SQLite and PostgreSQL alike).
    `since` is set once, when a row first names an object that exists (a reservation
    has none), and kept through every later update, disable and re-enable."""
    now, today = datetime.now(UTC), date.today()
    rows = [{**dataclasses.asdict(item), "updated_at": now,
             "since": None if item.state == PENDING else today} for item in items]
    if not rows:
        return
    upserts: dict[str, Callable[[Table], sqlite.Insert | postgresql.Insert]] = {
        "sqlite": sqlite.insert, "postgresql": postgresql.insert}
    insert_for = upserts.get(conn.dialect.name)
    if insert_for is None:  # another database: the portable way, delete then insert
        for row in rows:
            row["since"] = conn.execute(select(accounts.c.since).where(_key(row))
                                        ).scalar() or row["since"]
            conn.execute(delete(accounts).where(_key(row)))
        conn.execute(insert(accounts), rows)
        return
    conn.execute(_upsert(conn.dialect.name, insert_for), rows)


_KEY = ("target", "kind", "key")


@functools.cache
def _upsert(dialect: str, insert_for: Callable[[Table], sqlite.Insert | postgresql.Insert]
            ) -> Any:
    """The registry's upsert, built once per dialect: building it is most of the cost
    of writing one row (thousands of column objects per call)."""
    statement = insert_for(accounts)
    columns = [c.name for c in accounts.columns if c.name not in _KEY]
    updated: dict[str, Any] = {c: statement.excluded[c] for c in columns}
    updated["since"] = func.coalesce(accounts.c.since, statement.excluded.since)
    return statement.on_conflict_do_update(index_elements=list(_KEY), set_=updated)


def _key(row: dict[str, Any]) -> Any:
    return and_(accounts.c.target == row["target"], accounts.c.kind == row["kind"],
                accounts.c.key == row["key"])


def forget_accounts(conn: Connection, target: str, keys: Iterable[tuple[str, str]]) -> None:
    """Drop registry rows of deleted objects; users keep theirs so the name stays theirs."""
    for kind, key in keys:
        if kind == "user":
            conn.execute(update(accounts).where(and_(
                accounts.c.target == target, accounts.c.kind == kind, accounts.c.key == key,
            )).values(state=DELETED, updated_at=datetime.now(UTC)))
        else:
            conn.execute(delete(accounts).where(and_(
                accounts.c.target == target, accounts.c.kind == kind, accounts.c.key == key)))


def write_audit(conn: Connection, entries: Iterable[AuditEntry]) -> None:
    now = datetime.now(UTC)
    rows = [{**entry.__dict__, "at": now} for entry in entries]
    if rows:
        conn.execute(insert(audit), rows)


def person_accounts(conn: Connection, person_id: str) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(accounts.c.target, accounts.c.username, accounts.c.locator.label("dn"),
               accounts.c.state,
               accounts.c.disabled_on)
        .where(and_(accounts.c.kind == "user", accounts.c.key == person_id))
        .order_by(accounts.c.target)
    )
    return [dict(row._mapping) for row in rows]


def person_it_users(conn: Connection, person_id: str) -> list[dict[str, Any]]:
    """The person's IT users, by system: syncd's user in each target (the registry row,
    the target's own id as `anchor`), then those the sources gave (`origin` says which)."""
    ours = conn.execute(
        select(accounts.c.target.label("system"), accounts.c.username, accounts.c.locator,
               accounts.c.anchor, accounts.c.state, accounts.c.since, accounts.c.disabled_on)
        .where(and_(accounts.c.kind == USER, accounts.c.key == person_id))
        .order_by(accounts.c.target))
    users, systems = org_tables["it_users"].c, org_tables["it_systems"].c
    theirs = conn.execute(
        select(systems.name.label("system"), users.username, users.external_id,
               users.valid_from, users.valid_to)
        .join_from(org_tables["it_users"], org_tables["it_systems"],
                   users.it_system == systems.id)
        .where(users.person == person_id)
        .order_by(systems.name, users.valid_from, users.id))
    found = [{**row._mapping, "origin": "target"} for row in ours]
    found += [{**row._mapping, "origin": "source"} for row in theirs]
    return sorted(found, key=lambda row: row["system"])


def person_audit(conn: Connection, person_id: str, limit: int = 10) -> list[dict[str, Any]]:
    """The last changes made to a person's accounts, newest first, with the rule and the
    source record that caused each and the names of the attributes they changed (never
    their values: those are the target's to show)."""
    rows = conn.execute(
        select(audit.c.at, audit.c.target, audit.c.locator.label("dn"), audit.c.action,
               audit.c.why, audit.c.rule, audit.c.source, audit.c.attributes,
               audit.c.result, audit.c.message)
        .where(and_(audit.c.kind == "user", audit.c.key == person_id))
        .order_by(audit.c.id.desc())
        .limit(limit)
    )
    return [{**row._mapping, "attributes": [a["name"] for a in row.attributes or ()]}
            for row in rows]
