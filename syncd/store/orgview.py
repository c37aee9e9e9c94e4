"""The org's records as the store holds them, for the org view (syncd.orgview)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Connection, select, union

from syncd.org import KINDS, field_names
from syncd.store.schema import org_tables

_ORG = {kind: table.c for kind, table in org_tables.items()}


def load_kind(conn: Connection, kind: str, where: ColumnElement[bool] | None = None) -> list[Any]:
    """`kind`'s records (those `where` picks), by id: the order a view groups them in."""
    table = org_tables[kind]
    query = select(*[table.c[name] for name in field_names(kind)]).order_by(table.c.id)
    if where is not None:
        query = query.where(where)
    return [KINDS[kind](*row) for row in conn.execute(query)]


def load_records(conn: Connection) -> dict[str, list[Any]]:
    """Every record in the store, by kind."""
    return {kind: load_kind(conn, kind) for kind in KINDS}


def load_around(conn: Connection, person_id: str) -> dict[str, list[Any]]:
    """The records a person's card reads, by kind, in one indexed query per kind and one
    up the unit tree, whatever the size of the org: the person's own records, the units
    of their engagements and posts up to the root with those units' managers (and their
    persons), and the IT systems of their IT users. A post of the person's is in one of
    those units, so it is among those managers. Each kind in id order, as `load_records`."""
    unit_ids = _unit_chains(conn, person_id)
    managers = load_kind(conn, "managers", _ORG["managers"].unit.in_(unit_ids))
    person_ids = {person_id, *(post.person for post in managers if post.person)}
    it_users = load_kind(conn, "it_users", _ORG["it_users"].person == person_id)
    own = {kind: load_kind(conn, kind, _ORG[kind].person == person_id)
           for kind in ("engagements", "associations", "leaves", "roles")}
    return {
        **own,
        "units": load_kind(conn, "units", _ORG["units"].id.in_(unit_ids)),
        "persons": load_kind(conn, "persons", _ORG["persons"].id.in_(sorted(person_ids))),
        "managers": managers,
        "addresses": load_kind(conn, "addresses", _ORG["addresses"].owner == person_id),
        "it_users": it_users,
        "it_systems": load_kind(conn, "it_systems",
                            _ORG["it_systems"].id.in_(sorted({u.it_system for u in it_users}))),
    }


def _unit_chains(conn: Connection, person_id: str) -> list[str]:
    """The units of the person's engagements and manager posts, and every ancestor of
    them: one recursive query up the parent column (the store refuses cycles; UNION
    stops one anyway)."""
    units = org_tables["units"]
    seeds = union(select(_ORG["engagements"].unit).where(_ORG["engagements"].person == person_id),
                  select(_ORG["managers"].unit).where(_ORG["managers"].person == person_id))
    chain = select(units.c.id, units.c.parent).where(units.c.id.in_(seeds)
                                                     ).cte("chain", recursive=True)
    chain = chain.union(select(units.c.id, units.c.parent).join(chain,
                                                                units.c.id == chain.c.parent))
    return sorted(conn.execute(select(chain.c.id)).scalars())
