"""The organisation as it stands on one day: the address-book and mapping queries.

Built once per cycle from records (the store's, or a snapshot not stored) and then read
many times, so it is indexed in memory; every "as of day D" rule of docs/snapshot.md
lives here and only here. Pure: no database, so the mapping imports it without the store.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from syncd.errors import NotFound
from syncd.org import (
    KINDS,
    Address,
    Association,
    Engagement,
    ItUser,
    Leave,
    Manager,
    Person,
    Role,
    Unit,
)


@dataclass(frozen=True)
class UnitManager:
    manager: Manager
    person: Person


@dataclass(frozen=True)
class SystemUser:
    """An IT user the sources gave, with the name of its IT system."""

    it_user: ItUser
    system: str


def records_of(rows: Mapping[str, Mapping[str, tuple[Any, ...]]]) -> dict[str, list[Any]]:
    """Accepted snapshot rows as records, by kind, in the order the store gives them."""
    return {kind: [KINDS[kind](*rows[kind][ident]) for ident in sorted(rows.get(kind, {}))]
            for kind in KINDS}


def _group(records: Iterable[Any], key: str) -> dict[str, list[Any]]:
    grouped: dict[str, list[Any]] = defaultdict(list)
    for record in records:
        grouped[getattr(record, key)].append(record)
    return grouped


class OrgView:
    """Queries about persons and units, valid on `day`."""

    def __init__(self, records: Mapping[str, list[Any]], day: date):
        """`records` by kind, from the store (`load_records`) or a snapshot not stored
        (`records_of`: what `plan` and `validate` see)."""
        self.day = day
        self.ingest = 0  # the last ingest that changed a record, as the store had it (0: none)
        self.persons: dict[str, Person] = {p.id: p for p in records["persons"]}
        self.units: dict[str, Unit] = {u.id: u for u in records["units"]}
        engagements: list[Engagement] = records["engagements"]
        self._engagements_of = _group(
            sorted(engagements, key=lambda e: (e.valid_from or date.min, e.id)), "person"
        )
        active = [e for e in engagements if e.active_on(day)]
        self._engaged_in = _group(active, "unit")
        self._children = _group((u for u in self.units.values() if u.parent), "parent")
        managers = self._active(records["managers"])
        self._managers_of_unit = _group(managers, "unit")
        self._posts_of_person = _group((m for m in managers if m.person), "person")
        self._addresses = _group(self._active(records["addresses"]), "owner")
        self._leaves = _group(self._active(records["leaves"]), "person")
        self._roles = _group(self._active(records["roles"]), "person")
        self._associations = _group(self._active(records["associations"]), "person")
        self._it_users = self._system_users(records["it_users"], records["it_systems"])

    def _active(self, records: Iterable[Any]) -> list[Any]:
        return [record for record in records if record.active_on(self.day)]

    def _system_users(self, users: list[ItUser], systems: list[Any]
                      ) -> dict[str, list[SystemUser]]:
        names = {system.id: system.name for system in systems}
        by_person: dict[str, list[SystemUser]] = defaultdict(list)
        for user in self._active(users):
            by_person[user.person].append(SystemUser(user, names[user.it_system]))
        return by_person

    # --- persons ---------------------------------------------------------------------

    def person(self, person_id: str) -> Person:
        try:
            return self.persons[person_id]
        except KeyError:
            raise NotFound(f"no person with id {person_id!r} in the store") from None

    def engagements(self, person_id: str) -> list[Engagement]:
        """Every engagement, past, present and future, oldest first."""
        return list(self._engagements_of.get(person_id, ()))

    def active_engagements(self, person_id: str) -> list[Engagement]:
        return [e for e in self._engagements_of.get(person_id, ()) if e.active_on(self.day)]

    def upcoming_engagements(self, person_id: str, within_days: int) -> list[Engagement]:
        """Engagements that start after today, no later than `within_days` from now."""
        last = self.day + timedelta(days=within_days)
        return [
            e for e in self._engagements_of.get(person_id, ())
            if e.valid_from is not None and self.day < e.valid_from <= last
        ]

    def primary_engagement(self, person_id: str) -> Engagement | None:
        """The active engagement marked primary, else the oldest active one."""
        active = self.active_engagements(person_id)
        return next((e for e in active if e.primary), active[0] if active else None)

    def units_of(self, person_id: str) -> list[Unit]:
        seen = dict.fromkeys(e.unit for e in self.active_engagements(person_id))
        return [self.units[unit_id] for unit_id in seen]

    def manager_of(self, person_id: str) -> Person | None:
        """The nearest manager up the tree from the primary unit, never the person themself."""
        primary = self.primary_engagement(person_id)
        if primary is None:
            return None
        post = self.nearest_manager(primary.unit, excluding=person_id)
        return post.person if post else None

    def nearest_manager(self, unit_id: str, excluding: str | None = None) -> UnitManager | None:
        """The first filled manager post in this unit or up its parent chain."""
        for unit in [self.unit(unit_id), *self.parent_chain(unit_id)]:
            for post in self.unit_managers(unit.id):
                if post.person.id != excluding:
                    return post
        return None

    def contacts(self, owner_id: str, visibility: Iterable[str] = ("public",)) -> list[Address]:
        wanted = set(visibility)
        return [a for a in self._addresses.get(owner_id, ()) if a.visibility in wanted]

    def leave(self, person_id: str) -> Leave | None:
        leaves = self._leaves.get(person_id)
        return leaves[0] if leaves else None

    def roles(self, person_id: str) -> list[Role]:
        return list(self._roles.get(person_id, ()))

    def associations(self, person_id: str) -> list[Association]:
        return list(self._associations.get(person_id, ()))

    def it_users(self, person_id: str) -> list[SystemUser]:
        """The person's IT users valid today, as the sources gave them."""
        return list(self._it_users.get(person_id, ()))

    def managed_units(self, person_id: str) -> list[Unit]:
        unit_ids = dict.fromkeys(post.unit for post in self._posts_of_person.get(person_id, ()))
        return [self.units[unit_id] for unit_id in unit_ids]

    def is_manager(self, person_id: str) -> bool:
        return person_id in self._posts_of_person

    # --- units -----------------------------------------------------------------------

    def unit(self, unit_id: str) -> Unit:
        try:
            return self.units[unit_id]
        except KeyError:
            raise NotFound(f"no unit with id {unit_id!r} in the store") from None

    def parent_chain(self, unit_id: str) -> list[Unit]:
        """Parent, grandparent, ... up to the root (the store refuses cycles)."""
        chain = []
        parent = self.unit(unit_id).parent
        while parent is not None:
            chain.append(self.units[parent])
            parent = self.units[parent].parent
        return chain

    def sub_units(self, unit_id: str) -> list[Unit]:
        return [u for u in self._children.get(unit_id, ()) if u.active_on(self.day)]

    def members(self, unit_id: str) -> list[Person]:
        """Persons with an engagement in this unit today, by name."""
        ids = dict.fromkeys(e.person for e in self._engaged_in.get(unit_id, ()))
        return sorted((self.persons[i] for i in ids), key=lambda p: (p.surname, p.given_name, p.id))

    def unit_managers(self, unit_id: str) -> list[UnitManager]:
        """Filled manager posts of this unit today (vacant posts are left out)."""
        return [
            UnitManager(post, self.persons[post.person])
            for post in self._managers_of_unit.get(unit_id, ())
            if post.person is not None
        ]
