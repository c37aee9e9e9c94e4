"""What a template can read about a person, a group or a unit.

README.md ("Mapping cookbook") lists these names; keep the two in step.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from syncd.objects import ACTIVE, DELETED, Owned
from syncd.org import Person, Unit
from syncd.orgview import OrgView


@dataclass(frozen=True)
class ItUser:
    """One of a person's IT users as a template sees it: one a source gave (`origin`
    "source", valid today), or syncd's own account in another target ("target")."""

    system: str  # the IT system's name, or the target's
    username: str | None
    external_id: str | None  # the system's own id (a target's entryUUID, objectGUID, ...)
    state: str  # a target account's registry state; "active" for a source's
    origin: str


def it_users(org: OrgView, person_id: str, elsewhere: Sequence[Owned]) -> list[ItUser]:
    """The person's IT users today: the sources', then syncd's in `elsewhere` (the
    person's registry users in the other targets), leaving out deleted accounts."""
    theirs = [ItUser(found.system, found.it_user.username, found.it_user.external_id,
                     ACTIVE, "source") for found in org.it_users(person_id)]
    ours = [ItUser(owned.target, owned.username, owned.anchor, owned.state, "target")
            for owned in elsewhere if owned.state != DELETED]
    return theirs + ours


def it_context(org: OrgView, person_id: str, elsewhere: Sequence[Owned]) -> dict[str, Any]:
    """`it_users`, and `it_systems`: their systems' names, sorted, each once (a list, so
    that what a template makes of it is the same in every process)."""
    users = it_users(org, person_id, elsewhere)
    return {"it_users": users, "it_systems": sorted({user.system for user in users})}


def person_context(
    org: OrgView, person: Person, window: int, common: dict[str, Any],
    elsewhere: Sequence[Owned] = (),
) -> dict[str, Any]:
    """Everything about `person` on `org.day`; `primary` falls back to the next
    engagement inside the pre-provision window, so a future hire renders too.
    `elsewhere`: the person's registry users in the config's other targets."""
    pid = person.id
    active = org.active_engagements(pid)
    upcoming = org.upcoming_engagements(pid, window)
    primary = org.primary_engagement(pid) or (upcoming[0] if upcoming else None)
    primary_unit = org.units[primary.unit] if primary else None
    post = org.nearest_manager(primary.unit, excluding=pid) if primary else None
    email = _first(org, pid, "email")
    leave = org.leave(pid)
    return {
        **common,
        "person": person,
        "extra": person.extra or {},
        "engagements": active,
        "upcoming": upcoming,
        "engaged": bool(active or upcoming),
        "last_day": _last_day(org, pid, [*active, *upcoming]),
        "primary": primary,
        "primary_unit": primary_unit,
        "units": org.units_of(pid),
        "unit_ids": [e.unit for e in active],
        "manager": post.person if post else None,
        "email": email,
        "phone": _first(org, pid, "phone"),
        "leave": leave,
        "on_leave": leave is not None,
        "roles": org.roles(pid),
        "associations": org.associations(pid),
        "is_manager": org.is_manager(pid),
        "managed_units": org.managed_units(pid),
        **it_context(org, pid, elsewhere),
    }


def _last_day(org: OrgView, person_id: str, current: list[Any]) -> date | None:
    """The last day of the engagements the person has now or is about to start (a
    leaver: of those they had): the day access should end, None while one is open."""
    engagements = current or [e for e in org.engagements(person_id)
                              if e.valid_from is None or e.valid_from <= org.day]
    ends = [e.valid_to for e in engagements]
    return max(ends) if ends and None not in ends else None


def _first(org: OrgView, owner: str, kind: str) -> str | None:
    """The first public address of a kind (email, phone)."""
    for address in org.contacts(owner):
        if address.type == kind:
            return address.value
    return None


def common_context(day: date, target: dict[str, Any], variables: dict[str, Any]
                   ) -> dict[str, Any]:
    """`target`: what the target gives every template (an LDAP target its `base_dn`)."""
    return {"today": day, **target, "vars": variables}


def unit_context(unit: Unit | None, common: dict[str, Any], unit_slug: str | None = None
                 ) -> dict[str, Any]:
    """`unit_slug` is the unit's distinct group name (`syncd.mapping.unitnames`)."""
    return {**common, "unit": unit, "unit_slug": unit_slug}
