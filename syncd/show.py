"""The address book: a person's or unit's card, as data first and text second.

`person_card`/`unit_card` build the JSON that `syncd show --json` prints; the text view
is rendered from that same dict, so the two can never disagree.
"""

from __future__ import annotations

from itertools import groupby
from typing import Any

from syncd.org import Address, Engagement, Person, Unit
from syncd.orgview import OrgView


def _person_ref(person: Person) -> dict[str, str]:
    return {"id": person.id, "name": person.name}


def _unit_ref(unit: Unit) -> dict[str, str]:
    return {"id": unit.id, "name": unit.name}


def _dates(record: Any) -> dict[str, str | None]:
    def iso(day: Any) -> str | None:
        return day.isoformat() if day else None

    return {"valid_from": iso(record.valid_from), "valid_to": iso(record.valid_to)}


def _engagement(org: OrgView, engagement: Engagement) -> dict[str, Any]:
    return {
        "id": engagement.id,
        "job_function": engagement.job_function,
        "engagement_type": engagement.engagement_type,
        "primary": engagement.primary,
        "unit": _unit_ref(org.units[engagement.unit]),
        **_dates(engagement),
    }


def _contacts(addresses: list[Address]) -> list[dict[str, Any]]:
    return [{"type": a.type, "value": a.value, "visibility": a.visibility} for a in addresses]


def person_card(org: OrgView, person_id: str, accounts: list[dict[str, Any]] | None = None,
                changes: list[dict[str, Any]] | None = None,
                it_users: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """`it_users` as `Store.person_it_users` gives them (secrets are never among them)."""
    person = org.person(person_id)
    primary = org.primary_engagement(person_id)
    manager = org.manager_of(person_id)
    leave = org.leave(person_id)
    active = org.active_engagements(person_id)
    return {
        "kind": "person",
        "as_of": org.day.isoformat(),
        "id": person.id,
        "name": person.name,
        "given_name": person.given_name,
        "surname": person.surname,
        "nickname": person.nickname,
        "primary_engagement": primary.id if primary else None,
        "engagements": [_engagement(org, e) for e in active],
        "other_engagements": [
            _engagement(org, e) for e in org.engagements(person_id) if e not in active
        ],
        "units": [_unit_ref(u) for u in org.units_of(person_id)],
        "manager": _person_ref(manager) if manager else None,
        "manages": [_unit_ref(u) for u in org.managed_units(person_id)],
        "contacts": _contacts(org.contacts(person_id)),
        "leave": {"leave_type": leave.leave_type, **_dates(leave)} if leave else None,
        "roles": [{"role_type": r.role_type, "unit": r.unit} for r in org.roles(person_id)],
        "accounts": [_jsonable(a) for a in accounts or []],
        "it_users": [_jsonable(u) for u in sorted(it_users or [], key=lambda u: u["system"])],
        "last_changes": [_jsonable(c) for c in changes or []],
    }


def _jsonable(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in row.items()}


def unit_card(org: OrgView, unit_id: str) -> dict[str, Any]:
    unit = org.unit(unit_id)
    nearest = org.nearest_manager(unit_id)
    return {
        "kind": "unit",
        "as_of": org.day.isoformat(),
        "id": unit.id,
        "name": unit.name,
        "unit_type": unit.unit_type,
        "active": unit.active_on(org.day),
        **_dates(unit),
        "parent_chain": [_unit_ref(u) for u in org.parent_chain(unit_id)],
        "managers": [
            {**_person_ref(m.person), "manager_type": m.manager.manager_type}
            for m in org.unit_managers(unit_id)
        ],
        "nearest_manager": (
            {**_person_ref(nearest.person), "unit": _unit_ref(org.units[nearest.manager.unit])}
            if nearest else None
        ),
        "members": [_person_ref(p) for p in org.members(unit_id)],
        "sub_units": [_unit_ref(u) for u in org.sub_units(unit_id)],
        "contacts": _contacts(org.contacts(unit_id)),
    }


# --- text --------------------------------------------------------------------------------


def _ref(ref: dict[str, Any] | None) -> str:
    return f"{ref['name']} ({ref['id']})" if ref else "(none)"


def _period(item: dict[str, Any]) -> str:
    return f"{item['valid_from'] or '…'} to {item['valid_to'] or 'open'}"


def _engagement_line(item: dict[str, Any]) -> str:
    primary = "  [primary]" if item["primary"] else ""
    job = item["job_function"] or "(no job function)"
    return f"    {job}, {_ref(item['unit'])}, {_period(item)}{primary}"


def render_person(card: dict[str, Any]) -> str:
    nickname = f' "{card["nickname"]}"' if card["nickname"] else ""
    lines = [f"person {card['id']}  {card['name']}{nickname}  (as of {card['as_of']})"]
    lines.append("  engagements:")
    lines += [_engagement_line(e) for e in card["engagements"]] or ["    (none active)"]
    if card["other_engagements"]:
        lines.append("  past and future engagements:")
        lines += [_engagement_line(e) for e in card["other_engagements"]]
    lines.append(f"  manager:  {_ref(card['manager'])}")
    if card["manages"]:
        lines.append(f"  manages:  {', '.join(_ref(u) for u in card['manages'])}")
    lines += _render_contacts(card["contacts"])
    if card["leave"]:
        leave = card["leave"]
        lines.append(f"  on leave: {leave['leave_type'] or 'leave'}, {_period(leave)}")
    if card["roles"]:
        roles = ", ".join(f"{r['role_type']} ({r['unit'] or 'no unit'})" for r in card["roles"])
        lines.append(f"  roles:    {roles}")
    lines.append("  accounts:" + ("" if card["accounts"] else " (none)"))
    for account in card["accounts"]:
        since = f" since {account['disabled_on']}" if account["disabled_on"] else ""
        lines.append(f"    {account['target']}: {account['username']}  {account['dn']}  "
                     f"({account['state']}{since})")
    lines += _render_it_users(card["it_users"])
    if card["last_changes"]:
        lines.append("  last changes:")
        for change in card["last_changes"]:
            failed = f"  FAILED: {change['message']}" if change["result"] != "ok" else ""
            lines.append(f"    {change['at'][:19]}  {change['target']}: {change['action']} "
                         f"{change['dn']}  ({change['why']}){failed}")
    return "\n".join(lines)


def _render_it_users(it_users: list[dict[str, Any]]) -> list[str]:
    """Under each system's name (the card lists them by system), its accounts."""
    lines = ["  IT users:" + ("" if it_users else " (none)")]
    for system, users in groupby(it_users, key=lambda user: user["system"]):
        lines.append(f"    {system}:")
        lines += [f"      {_it_user_line(user)}" for user in users]
    return lines


def _it_user_line(user: dict[str, Any]) -> str:
    """A target's account with where it is and its state, or a source's with its dates."""
    if user["origin"] == "source":
        ident = f"  id {user['external_id']}" if user["external_id"] else ""
        return f"{user['username']}{ident}  ({_period(user)}, from the sources)"
    found = "".join(f"  {user[k]}" for k in ("locator", "anchor") if user[k])
    dates = "".join(f", {word} {user[k]}" for word, k in
                    (("since", "since"), ("disabled", "disabled_on")) if user[k])
    return f"{user['username']}{found}  ({user['state']}{dates}, syncd's)"


def render_unit(card: dict[str, Any]) -> str:
    state = "" if card["active"] else f"  (not active: {_period(card)})"
    lines = [f"unit {card['id']}  {card['name']}  (as of {card['as_of']}){state}"]
    chain = " > ".join(_ref(u) for u in reversed(card["parent_chain"])) or "(root)"
    lines.append(f"  parents:   {chain}")
    managers = ", ".join(_ref(m) for m in card["managers"]) or _nearest(card["nearest_manager"])
    lines.append(f"  managers:  {managers}")
    lines.append(f"  sub-units: {', '.join(_ref(u) for u in card['sub_units']) or '(none)'}")
    lines += _render_contacts(card["contacts"])
    lines.append(f"  members ({len(card['members'])}):")
    lines += [f"    {_ref(p)}" for p in card["members"]]
    return "\n".join(lines)


def _nearest(nearest: dict[str, Any] | None) -> str:
    if nearest is None:
        return "(none here or above)"
    return f"(none in this unit; nearest: {_ref(nearest)} of {_ref(nearest['unit'])})"


def _render_contacts(contacts: list[dict[str, Any]]) -> list[str]:
    return [f"  {c['type']}:{' ' * max(1, 9 - len(c['type']))}{c['value']}" for c in contacts]
