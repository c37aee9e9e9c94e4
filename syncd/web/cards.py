"""What each page shows, as data for its template: built from the store's indexed reads
(`Store.unit_view`, `person_view`, `unit_members`, `search`) and the daemon's target
states, with who-sees-what already applied (the caller passes the visibilities and
whether the viewer is an admin; templates only lay out what they are given)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from syncd.cycle import Loaded
from syncd.org import Address, Person, Unit
from syncd.orgview import OrgView
from syncd.store import Store

CHANGES_SHOWN = 10  # of a person's accounts' last changes


class TargetView(Protocol):
    """What /targets reads of a target's state (the daemon's `TargetState`)."""

    last_run: datetime | None
    result: str | None
    stage: str | None
    error: str | None
    duration: float | None
    counts: dict[str, int]
    holds: list[dict[str, Any]]
    held: list[dict[str, Any]]
    held_total: int
    preview: Any  # the daemon's Preview, or None


class Site(Protocol):
    """What the pages read of the daemon."""

    @property
    def store(self) -> Store: ...

    @property
    def states(self) -> Mapping[str, TargetView]: ...

    @property
    def loaded(self) -> Loaded: ...

    def next_run(self, name: str) -> datetime | None: ...

    def preview_soon(self, name: str, day: date) -> bool: ...


# --- the unit tree ---------------------------------------------------------------------


@dataclass
class TreeNode:
    unit: Unit
    children: list[TreeNode] = field(default_factory=list)


class UnitTree:
    """Every root's tree of units active on a day, rendered: from the units table (10,000
    rows are read in a blink), read again only after an ingest changed the org, and each
    day's tree rendered once (5,000 units are 400 KB of HTML, tens of milliseconds)."""

    KEPT = 16  # rendered trees kept per ingest (today, and the days looked at)

    def __init__(self, store: Store):
        self.store = store
        self.lock = threading.Lock()
        self.version: int | None = None
        self.units: list[Unit] = []
        self.rendered: dict[tuple[date, str | None], str] = {}

    def html(self, day: date, chosen: str | None,
             render: Callable[[list[TreeNode]], str]) -> str:
        """The tree of `day` as `render` lays it out; `chosen` is the day the links keep."""
        version = self.store.ingest_version()
        with self.lock:
            if version != self.version:
                self.units, self.rendered, self.version = self.store.all_units(), {}, version
            if (day, chosen) not in self.rendered:
                if len(self.rendered) >= self.KEPT:
                    self.rendered.clear()
                self.rendered[day, chosen] = render(_tree(self.units, day))
            return self.rendered[day, chosen]


def _tree(units: list[Unit], day: date) -> list[TreeNode]:
    """The units active on `day` as trees, by name; a unit whose parent is not active
    then is a root of its own, so nothing active is left out."""
    active = {unit.id: TreeNode(unit) for unit in units if unit.active_on(day)}
    roots: list[TreeNode] = []
    for node in sorted(active.values(), key=lambda n: (n.unit.name, n.unit.id)):
        parent = active.get(node.unit.parent or "")
        (parent.children if parent else roots).append(node)
    return roots


# --- a unit ----------------------------------------------------------------------------


def _ref(record: Person | Unit) -> dict[str, str]:
    return {"id": record.id, "name": record.name}


def _contacts(addresses: list[Address]) -> list[dict[str, str]]:
    return [{"type": a.type, "value": a.value, "visibility": a.visibility} for a in addresses]


def unit_card(site: Site, unit_id: str, day: date, visibility: tuple[str, ...], admin: bool,
              page: int, per_page: int) -> dict[str, Any]:
    """The unit page; NotFound for an id the store does not have."""
    store = site.store
    view = store.unit_view(unit_id, day)
    unit = view.unit(unit_id)
    managers = view.unit_managers(unit_id)
    nearest = None if managers else view.nearest_manager(unit_id)
    total, members = store.unit_members(unit_id, day, (page - 1) * per_page, per_page)
    return {
        **_ref(unit), "unit_type": unit.unit_type, "active": unit.active_on(day),
        "valid_from": unit.valid_from, "valid_to": unit.valid_to,
        "chain": [_ref(u) for u in reversed(view.parent_chain(unit_id))],
        "managers": [{**_ref(m.person), "manager_type": m.manager.manager_type,
                      "responsibilities": m.manager.responsibilities or []} for m in managers],
        "inherited": {**_ref(nearest.person), "unit": _ref(view.units[nearest.manager.unit])}
        if nearest else None,
        "members": [{**_ref(m.person), "job_functions": m.job_functions} for m in members],
        "members_total": total, "page": page, "pages": max(1, -(-total // per_page)),
        "sub_units": [_ref(u) for u in sorted(view.sub_units(unit_id), key=lambda u: u.name)],
        "contacts": _contacts(view.contacts(unit_id, visibility)),
        "associations": _in_unit(view, unit_id, view.associations, "association_type"),
        # roles (a union representative, say) and leave are personal data beyond the
        # address book: for admins only
        "roles": _in_unit(view, unit_id, view.roles, "role_type") if admin else [],
        "groups": store.unit_groups(unit_id) if admin else None,
    }


def _in_unit(view: OrgView, unit_id: str, of_person: Any, type_field: str
             ) -> list[dict[str, Any]]:
    """The associations (or roles) in the unit on the view's day, with their persons."""
    found = [(view.persons[pid], record) for pid in view.persons for record in of_person(pid)
             if record.unit == unit_id]
    return [{**_ref(person), "type": getattr(record, type_field),
             "valid_from": record.valid_from, "valid_to": record.valid_to}
            for person, record in sorted(found, key=lambda f: (f[0].surname, f[0].given_name))]


# --- a person --------------------------------------------------------------------------


def person_card(site: Site, person_id: str, day: date, visibility: tuple[str, ...],
                admin: bool) -> dict[str, Any]:
    """The person page; NotFound for an id the store does not have. Accounts, IT users
    and changes are read for admins only."""
    store = site.store
    view = store.person_view(person_id, day)
    person = view.person(person_id)
    manager = view.manager_of(person_id)
    leave = view.leave(person_id)
    roles, associations = view.roles(person_id), view.associations(person_id)
    names = store.unit_names([r.unit for r in roles if r.unit]
                             + [a.unit for a in associations])
    card = {
        **_ref(person), "nickname": person.nickname,
        "engagements": [_engagement(view, person_id, e) for e in view.engagements(person_id)],
        "manager": _ref(manager) if manager else None,
        "manages": [_ref(u) for u in view.managed_units(person_id)],
        "contacts": _contacts(view.contacts(person_id, visibility)),
        "leave": {"type": leave.leave_type, "valid_from": leave.valid_from,
                  "valid_to": leave.valid_to} if leave and admin else None,
        "roles": [{"type": r.role_type, "unit": _named(r.unit, names)} for r in roles]
        if admin else [],
        "associations": [{"type": a.association_type, "unit": _named(a.unit, names)}
                         for a in associations],
        "accounts": None, "it_users": None, "changes": None,
    }
    if admin:
        card.update(_admin_part(site, person_id, day))
    return card


def _named(unit_id: str | None, names: dict[str, str]) -> dict[str, str] | None:
    return {"id": unit_id, "name": names.get(unit_id, unit_id)} if unit_id else None


def _engagement(view: OrgView, person_id: str, engagement: Any) -> dict[str, Any]:
    """One engagement with its unit, when it is (past, current, future) and the manager
    of it: the nearest up the tree from its unit, never the person themself."""
    start, end = engagement.valid_from, engagement.valid_to
    when = ("current" if engagement.active_on(view.day)
            else "future" if start and start > view.day else "past")
    post = view.nearest_manager(engagement.unit, excluding=person_id)
    return {"job_function": engagement.job_function, "type": engagement.engagement_type,
            "primary": engagement.primary, "unit": _ref(view.units[engagement.unit]),
            "valid_from": start, "valid_to": end, "when": when,
            "manager": _ref(post.person) if post else None}


def _admin_part(site: Site, person_id: str, day: date) -> dict[str, Any]:
    """The accounts syncd keeps for the person in each target, with their state on
    `day`; the IT users the sources give; the last changes made to the accounts."""
    store = site.store
    users = store.person_it_users(person_id)
    accounts = [{**user, "state_text": _account_state(site, user, day)}
                for user in users if user["origin"] == "target"]
    return {"accounts": accounts,
            "it_users": [user for user in users if user["origin"] == "source"],
            "changes": store.person_audit(person_id, CHANGES_SHOWN)}


def _account_state(site: Site, account: dict[str, Any], day: date) -> str:
    """pending, active since, disabled since and to be deleted on (the disable day plus
    the target's delete_after_days), deleted."""
    state, disabled = account["state"], account["disabled_on"]
    if state == "pending":
        return "pending: reserved, not created yet"
    if state == "active":
        return f"active since {account['since']}" if account["since"] else "active"
    if state != "disabled" or disabled is None:
        return state
    mapping = site.loaded.mappings.get(account["system"])
    if mapping is None:  # a target no longer configured
        return f"disabled since {disabled}"
    due = disabled + timedelta(days=mapping.spec.lifecycle.delete_after_days)
    verb = "to be deleted on" if due > day else "due for deletion since"
    return f"disabled since {disabled}, {verb} {due}"


# --- search and targets -----------------------------------------------------------------


def search(store: Store, text: str, day: date, visibility: tuple[str, ...], page: int,
           per_page: int, admin: bool) -> dict[str, Any]:
    """A page of the persons and of the units `text` finds (one more of each is read,
    to know whether there is a next page)."""
    if not text:
        return {"persons": [], "units": [], "page": page, "more": False}
    persons, units = store.search(text, day, visibility, (page - 1) * per_page, per_page + 1,
                                  whole_usernames=not admin)
    return {
        "persons": [{**_ref(f.person), "job_function": f.job_function,
                     "unit": _ref(f.unit) if f.unit else None} for f in persons[:per_page]],
        "units": [{**_ref(u), "active": u.active_on(day)} for u in units[:per_page]],
        "page": page, "more": len(persons) > per_page or len(units) > per_page,
    }


def targets(site: Site) -> list[dict[str, Any]]:
    """Each target's last cycle and next run, and what its guards hold back."""
    return [{"name": name, "last_run": state.last_run, "result": state.result,
             "stage": state.stage, "error": state.error, "duration": state.duration,
             "counts": state.counts, "next_run": site.next_run(name),
             "holds": state.holds, "held": state.held, "held_total": state.held_total,
             "preview": state.preview}
            for name, state in site.states.items()]

