"""`syncd plan --person ID`: why one person's account looks the way the plan says.

Built from a finished plan (nothing is rendered twice): whether the person is in scope
and why, the entry the plan matched in the target, and each attribute with its value,
the mapping rule that made it and the source records that rule reads. Data first, like
the address book, so `--json` and the text can never disagree.
"""

from __future__ import annotations

import re
from typing import Any

from jinja2 import Environment, TemplateSyntaxError, meta

from syncd.cycle import Planned
from syncd.mapping.rules import CompiledMapping
from syncd.mapping.templating import Template
from syncd.objects import ACTIVE, USER, Ref, Wanted
from syncd.orgview import OrgView
from syncd.plan.model import Action

HIDDEN = "(sensitive)"


def trace_person(org: OrgView, planned: Planned, mapping: CompiledMapping,
                 person_id: str) -> dict[str, Any]:
    """One person in one target's plan, as data."""
    wanted = planned.wanted.get((USER, person_id))
    person = org.persons.get(person_id)
    records = _records(org, person_id, mapping.spec.lifecycle.pre_provision_days)
    return {
        "target": planned.plan.target,
        "person": {"id": person_id, "name": person.name if person else None},
        "as_of": org.day.isoformat(),
        "in_scope": bool(wanted and wanted.state == ACTIVE),
        "state": wanted.state if wanted else None,
        "why": wanted.why if wanted else _why_no_account(org, planned, mapping, person_id),
        "source": wanted.source if wanted else "",
        "entry": _entry(planned, person_id),
        "attributes": _attributes(wanted, mapping, records) if wanted else [],
        "groups": _groups(planned, wanted) if wanted else [],
        "problems": [str(p) for p in planned.plan.problems if _about(str(p), person_id)],
    }


def _why_no_account(org: OrgView, planned: Planned, mapping: CompiledMapping,
                    person_id: str) -> str:
    """The plan has no object for this person: a failed template, or out of scope."""
    if any(_about(str(p), person_id) for p in planned.plan.problems):
        return "a template failed for this person (see problems); the account is left as it is"
    if person_id not in org.persons:
        return "not in the org store, and no account in this target"
    engagements = org.engagements(person_id)
    if not engagements:
        return "not in scope: no engagement at all"
    if org.active_engagements(person_id):
        return "not in scope: engaged, but the mapping's `when` condition is false"
    window = mapping.spec.lifecycle.pre_provision_days
    future = sorted(e.valid_from for e in engagements if e.valid_from and e.valid_from > org.day)
    if future:
        return (f"not in scope: the next engagement starts {future[0]}, outside the "
                f"pre-provision window ({window} d)")
    ended = max(e.valid_to for e in engagements if e.valid_to)
    return f"not in scope: the last engagement ended {ended}"


def _about(text: str, person_id: str) -> bool:
    return re.search(rf"\bperson {re.escape(person_id)}\b", text) is not None


def _entry(planned: Planned, person_id: str) -> dict[str, Any]:
    """The entry the plan matched in the target, and what it would do to it."""
    for change in planned.plan.changes:
        if change.kind == USER and change.key == person_id:
            created = change.action is Action.CREATE
            return {"dn": None if created else change.locator, "action": change.action.word,
                    "new_dn": change.locator if created else change.new_locator,
                    "changes": [a.as_dict() for a in change.attributes]}
    for wanted, entry in planned.diff.in_sync:
        if wanted.kind == USER and wanted.key == person_id:
            return {"dn": entry.locator, "action": "none (in sync)", "new_dn": None, "changes": []}
    owned = planned.registry.get((USER, person_id))
    return {"dn": owned.locator if owned else None, "action": "none", "new_dn": None,
            "changes": []}


def _attributes(wanted: Wanted, mapping: CompiledMapping,
                records: dict[str, str]) -> list[dict[str, Any]]:
    rules: dict[str, Template | tuple[Template, ...]] = {
        **mapping.attributes, **mapping.create_only}
    if wanted.state != ACTIVE:  # a disabled account: the attributes, disabled_ ones over them
        rules = {**mapping.attributes, **mapping.disabled_attributes}
    out = []
    for name, values in [*wanted.attrs.items(), *wanted.create_only.items()]:
        templates = rules.get(name)
        parts = templates if isinstance(templates, tuple) else (templates,) if templates else ()
        hidden = name in wanted.sensitive  # a literal initial password is in the template
        out.append({
            "name": name,
            "values": HIDDEN if hidden else list(values),
            "once": name in wanted.create_only,
            "rule": parts[0].path if parts else _fixed_rule(name, mapping),
            "at": f"{parts[0].file}:{parts[0].line}" if parts else "",
            "template": [HIDDEN] if hidden else [t.source for t in parts],
            "records": sorted({records[v] for t in parts for v in _variables(t.source)
                               if v in records}),
        })
    return out


def _fixed_rule(name: str, mapping: CompiledMapping) -> str:
    """Attributes no template renders: the anchor, the username, the object classes."""
    if name == mapping.anchor:
        return "users.anchor (the person id)"
    if name == mapping.username_attribute:
        return "users.username (kept once given)"
    return "users.object_classes" if name == "objectClass" else ""


_JINJA = Environment()


def _variables(source: str) -> set[str]:
    """The context names a template reads (`primary`, `email`, ...)."""
    try:
        return meta.find_undeclared_variables(_JINJA.parse(source))
    except TemplateSyntaxError:
        return set()


def _records(org: OrgView, person_id: str, window: int) -> dict[str, str]:
    """Template context name -> the source record its value comes from."""
    if person_id not in org.persons:
        return {}
    upcoming = org.upcoming_engagements(person_id, window)
    primary = org.primary_engagement(person_id) or (upcoming[0] if upcoming else None)
    refs = {"person": f"persons/{person_id}", "username": "the account registry",
            "vars": "the target's vars"}
    if primary:
        refs |= {"primary": f"engagements/{primary.id}", "primary_unit": f"units/{primary.unit}",
                 "unit_dn": f"units/{primary.unit}"}
        post = org.nearest_manager(primary.unit, excluding=person_id)
        if post:
            manager = f"managers/{post.manager.id} (persons/{post.person.id})"
            refs |= {"manager": manager, "manager_dn": manager}
    for address in reversed(org.contacts(person_id)):  # the first of each type wins
        refs[address.type] = f"addresses/{address.id}"
    if (leave := org.leave(person_id)) is not None:
        refs |= {"leave": f"leaves/{leave.id}", "on_leave": f"leaves/{leave.id}"}
    return refs


def _groups(planned: Planned, user: Wanted) -> list[dict[str, str]]:
    """The groups the plan puts the person in, with the rule and record behind each."""
    return [{"dn": g.locator or g.username or g.key, "rule": g.rule, "source": g.source}
            for g in planned.wanted.values() if g.kind != USER
            and any(isinstance(v, Ref) and (v.kind, v.key) == (USER, user.key)
                    for a in g.multi for v in g.attrs.get(a, ()))]


# --- text --------------------------------------------------------------------------------


def render_trace(trace: dict[str, Any]) -> str:
    person = trace["person"]
    scope = "in scope" if trace["in_scope"] else "NOT in scope"
    lines = [f"person {person['id']}  {person['name'] or '(not in the store)'}  in target "
             f"{trace['target']} as of {trace['as_of']}",
             f"  {scope}: {trace['why']}" + (f"  [{trace['source']}]" if trace["source"] else "")]
    lines += _render_entry(trace["entry"], trace["state"])
    if trace["attributes"]:
        lines.append("  attributes:")
    for attr in trace["attributes"]:
        values = attr["values"] if isinstance(attr["values"], str) else (
            ", ".join(f'"{v}"' for v in attr["values"]) or "(none: not written)")
        once = "  (written once, at creation)" if attr["once"] else ""
        lines.append(f"    {attr['name']}: {values}{once}")
        where = f" at {attr['at']}" if attr["at"] else ""
        lines.append(f"        from {attr['rule'] or 'the mapping'}{where}"
                     + "".join(f"  {t.strip()}" for t in attr["template"]))
        if attr["records"]:
            lines.append(f"        reads {', '.join(attr['records'])}")
    if trace["groups"]:
        lines.append("  groups:")
        lines += [f"    {g['dn']}  ({g['rule']}" + (f", {g['source']})" if g["source"] else ")")
                  for g in trace["groups"]]
    lines += [f"  ! {problem}" for problem in trace["problems"]]
    return "\n".join(lines)


def _render_entry(entry: dict[str, Any], state: str | None) -> list[str]:
    if entry["action"] == "create":
        return [f"  entry: none yet; would be created as {entry['new_dn']}"]
    if not entry["dn"]:
        return ["  entry: none" + (f" (wanted {state})" if state else "")]
    line = f"  entry: {entry['dn']}"
    if entry["action"] != "none":
        line += f"  plan: {entry['action']}"
    if entry["new_dn"]:
        line += f" -> {entry['new_dn']}"
    lines = [line]
    for change in entry["changes"]:
        lines.append(f"    {change['name']}: {change['before']} -> {change['after']}")
    return lines
