"""The web view's reads: one unit's part of the org, a unit's members a page at a time,
search, and a person's last changes, each a few indexed queries whatever the org's size
(the whole org takes seconds to load at 100,000 persons; a page has 200 ms)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, Table, and_, func, or_, select, union

from syncd.org import Person, Unit
from syncd.store.orgview import load_kind
from syncd.store.schema import accounts, org_tables

_ORG = {kind: table.c for kind, table in org_tables.items()}
FOLD = "syncd_lower"  # SQLite's lower() knows ASCII only: Ærø must find ærø


@dataclass(frozen=True)
class Member:
    """A person engaged in a unit on the day, with their job functions there."""

    person: Person
    job_functions: list[str]


@dataclass(frozen=True)
class Found:
    """A person a search found, with where they work (their primary engagement)."""

    person: Person
    job_function: str | None
    unit: Unit | None


def active_on(table: Table, day: date) -> ColumnElement[bool]:
    """`Dated.active_on` (syncd.org) as SQL, for the lists a page shows a part of."""
    start, end = table.c.valid_from, table.c.valid_to
    return and_(or_(start.is_(None), start <= day), or_(end.is_(None), end >= day))


def all_units(conn: Connection) -> list[Unit]:
    """Every unit, past and future too (the tree of any day is made from them)."""
    return list(load_kind(conn, "units"))


def load_unit(conn: Connection, unit_id: str) -> dict[str, list[Any]]:
    """The records a unit's page reads, by kind, for an OrgView: the unit, its parent
    chain and sub-units, their manager posts and those managers, the unit's addresses,
    and the associations and roles in it with their persons. Members are paged apart
    (`unit_members`): a unit may have thousands."""
    chain = _chain(conn, unit_id)
    units = load_kind(conn, "units", or_(_ORG["units"].id.in_(chain),
                                     _ORG["units"].parent == unit_id))
    managers = load_kind(conn, "managers", _ORG["managers"].unit.in_(chain))
    associations = load_kind(conn, "associations", _ORG["associations"].unit == unit_id)
    roles = load_kind(conn, "roles", _ORG["roles"].unit == unit_id)
    person_ids = {p.person for p in [*managers, *associations, *roles] if p.person}
    empty: list[Any] = []
    return {
        "units": units, "managers": managers, "associations": associations, "roles": roles,
        "persons": load_kind(conn, "persons", _ORG["persons"].id.in_(sorted(person_ids))),
        "addresses": load_kind(conn, "addresses", _ORG["addresses"].owner == unit_id),
        "engagements": empty, "leaves": empty, "it_systems": empty, "it_users": empty,
    }


def _chain(conn: Connection, unit_id: str) -> list[str]:
    """The unit and every ancestor: one recursive query up the parent column."""
    units = org_tables["units"]
    chain = select(units.c.id, units.c.parent).where(units.c.id == unit_id
                                                     ).cte("chain", recursive=True)
    chain = chain.union(select(units.c.id, units.c.parent).join(chain,
                                                                units.c.id == chain.c.parent))
    return sorted(conn.execute(select(chain.c.id)).scalars())


def unit_members(conn: Connection, unit_id: str, day: date, offset: int, limit: int
                 ) -> tuple[int, list[Member]]:
    """How many persons are engaged in the unit on `day`, and `limit` of them from
    `offset`, by name, with their job functions there."""
    engagements = org_tables["engagements"]
    engaged = and_(engagements.c.unit == unit_id, active_on(engagements, day))
    total = conn.execute(select(func.count(func.distinct(engagements.c.person)))
                         .where(engaged)).scalar() or 0
    page = _persons_page(conn, select(engagements.c.person).where(engaged), offset, limit)
    jobs: dict[str, list[str]] = {p.id: [] for p in page}
    rows = conn.execute(select(engagements.c.person, engagements.c.job_function)
                        .where(engaged, engagements.c.person.in_(list(jobs)))
                        .order_by(engagements.c.id))
    for person_id, job in rows:
        if job and job not in jobs[person_id]:
            jobs[person_id].append(job)
    return total, [Member(person, jobs[person.id]) for person in page]


def _persons_page(conn: Connection, ids: Select[Any], offset: int, limit: int) -> list[Person]:
    """Persons among `ids`, by name, `limit` from `offset`, sorted by the database."""
    persons = org_tables["persons"]
    query = (select(*persons.c).where(persons.c.id.in_(ids))
             .order_by(persons.c.surname, persons.c.given_name, persons.c.id)
             .offset(offset).limit(limit))
    return [Person(*row) for row in conn.execute(query)]


def unit_groups(conn: Connection, unit_id: str) -> list[dict[str, Any]]:
    """The registry's groups made from the unit (`RULE:UNIT`) in every target."""
    rows = conn.execute(
        select(accounts.c.target, accounts.c.key, accounts.c.username.label("name"),
               accounts.c.locator, accounts.c.state, accounts.c.since)
        .where(accounts.c.kind == "group",
               accounts.c.key.endswith(f":{unit_id}", autoescape=True))
        .order_by(accounts.c.target, accounts.c.key))
    return [dict(row._mapping) for row in rows]


def unit_names(conn: Connection, unit_ids: Iterable[str]) -> dict[str, str]:
    units = org_tables["units"]
    wanted = sorted(set(unit_ids))
    rows = conn.execute(select(units.c.id, units.c.name).where(units.c.id.in_(wanted)))
    return {unit_id: name for unit_id, name in rows}


# --- search ---------------------------------------------------------------------------


def _username_matches(conn: Connection, text: str, whole: bool) -> ColumnElement[bool]:
    """Usernames are account data: a part of one finds its person for an admin; for a
    reader only a whole username, of an account not deleted, does (as `show person`)."""
    if not whole:
        return _contains(conn, accounts.c.username, text)
    return and_(func.lower(accounts.c.username) == text.lower(),
                accounts.c.state != "deleted")


def search_persons(conn: Connection, text: str, day: date, visibility: Iterable[str],
                   offset: int, limit: int, whole_usernames: bool = False) -> list[Found]:
    """Persons whose name, nickname, username in a target or email address (of the
    visibilities given, valid on `day`) contains `text` in any case, by name."""
    persons, addresses = org_tables["persons"], org_tables["addresses"]
    full_name = persons.c.given_name + " " + persons.c.surname
    ids = union(
        select(persons.c.id).where(or_(_contains(conn, full_name, text),
                                       _contains(conn, persons.c.nickname, text))),
        select(accounts.c.key).where(accounts.c.kind == "user", _username_matches(
            conn, text, whole_usernames)),
        select(addresses.c.owner).where(addresses.c.type == "email",
                                        addresses.c.visibility.in_(list(visibility)),
                                        active_on(addresses, day),
                                        _contains(conn, addresses.c.value, text)),
    )
    page = _persons_page(conn, select(ids.subquery().c.id), offset, limit)
    return _where_they_work(conn, page, day)


def _where_they_work(conn: Connection, page: list[Person], day: date) -> list[Found]:
    """Each person with the job function and unit of their primary engagement on `day`
    (else their first active one), as `OrgView.primary_engagement` picks it."""
    engagements = org_tables["engagements"]
    rows = conn.execute(
        select(engagements.c.person, engagements.c.job_function, engagements.c.unit)
        .where(engagements.c.person.in_([p.id for p in page]), active_on(engagements, day))
        .order_by(engagements.c.primary.desc(), engagements.c.valid_from, engagements.c.id))
    first: dict[str, tuple[str | None, str]] = {}
    for person_id, job, unit_id in rows:
        first.setdefault(person_id, (job, unit_id))
    units = {u.id: u for u in load_kind(conn, "units", _ORG["units"].id.in_(
        sorted({unit_id for _, unit_id in first.values()})))}
    return [Found(p, first[p.id][0] if p.id in first else None,
                  units.get(first[p.id][1]) if p.id in first else None) for p in page]


def search_units(conn: Connection, text: str, offset: int, limit: int) -> list[Unit]:
    """Units whose name contains `text` in any case, by name (any day's: a unit page
    says when it is not active)."""
    units = org_tables["units"]
    query = (select(*units.c).where(_contains(conn, units.c.name, text))
             .order_by(units.c.name, units.c.id).offset(offset).limit(limit))
    return [Unit(*row) for row in conn.execute(query)]


def _contains(conn: Connection, column: ColumnElement[Any], text: str
              ) -> ColumnElement[bool]:
    """`column` contains `text`, in any case. SQLite's LIKE ignores the case of ASCII
    letters only: for other letters, a LIKE with each of them as `_` (any one letter)
    finds the few candidates fast, and Python's lower() on both sides decides."""
    if conn.dialect.name != "sqlite":
        return column.icontains(text, autoescape=True)
    if text.isascii():
        return column.contains(text, autoescape=True)  # LIKE: ASCII case ignored
    raw = conn.connection.driver_connection
    raw.create_function(FOLD, 1, _lower, deterministic=True)  # type: ignore[union-attr]
    escaped = text.replace("/", "//").replace("%", "/%").replace("_", "/_")
    rough = "".join(letter if letter.isascii() else "_" for letter in escaped)
    return and_(column.like(f"%{rough}%", escape="/"),
                getattr(func, FOLD)(column).contains(text.lower(), autoescape=True))


def _lower(value: str | None) -> str | None:
    return value.lower() if value is not None else None
