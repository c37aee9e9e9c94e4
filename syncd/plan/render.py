"""The plan as a sysadmin reads it, rendered from the same dict that `--json` prints."""

from __future__ import annotations

from typing import Any

from syncd.objects import norm_dn
from syncd.plan.model import Action

_SYMBOL = {action.word: action.symbol for action in Action}
_WIDTH = 17
SHOWN_VALUES = 8  # of a new group's members; --json has them all


def render_text(plan: dict[str, Any], applied: bool = False) -> str:
    base = plan.get("base_dn", "")
    where = f" base {base}" if base else ""
    lines = [
        f"target {plan['target']} ({plan['flavour']}){where}  as of {plan['as_of']}",
        "desired " + ", ".join(f"{n:,} {kind}s" for kind, n in plan["desired"].items())
        + f"  |  found {plan['managed']:,} managed, {plan['foreign']:,} not ours (left alone)",
    ]
    used = [a for a in Action if plan["summary"][a.word]]
    if used:
        lines.append("legend: " + "  ".join(f"{a.symbol} {a.word}" for a in used))
    lines.append("")
    lines += _adoptions(plan.get("adoptions", []), base)
    for change in plan["changes"]:
        lines += _change(change, base)
    for problem in plan["errors"]:
        lines.append(f"! {problem}")
    if plan["errors"]:
        lines.append("")
    for notice in plan.get("notices", []):
        lines.append(f"note: {notice}")
    lines.append(render_summary(plan))
    if not applied:
        total = len(plan["changes"])
        lines.append("nothing changed; " + (
            f"`syncd apply --target {plan['target']}` would make these {total} changes"
            if total else "the target matches the mapping"))
    return "\n".join(lines)


def render_summary(plan: dict[str, Any]) -> str:
    """The counts and the guards: the end of the plan, and all of `plan --summary`."""
    return f"{_tally(plan)}\nguards: " + ", ".join(_guard(g) for g in plan["guards"])


def _short(dn: str | None, base: str) -> str:
    """A DN relative to the base DN shown in the header (a target without one: as is)."""
    if not dn or not base:
        return dn or ""
    suffix = "," + norm_dn(base)
    return dn[: len(dn) - len(suffix)] if norm_dn(dn).endswith(suffix) else dn


def _adoptions(adoptions: list[dict[str, Any]], base: str) -> list[str]:
    """Entries syncd did not make that a correlation rule takes over: listed first, so
    that they are reviewed before the first apply (their changes follow below)."""
    if not adoptions:
        return []
    lines = [f"adopts {len(adoptions)} existing entr{'y' if len(adoptions) == 1 else 'ies'} "
             "(not made by syncd; matched by a correlation rule; review before applying):"]
    lines += [f"  = {a['kind']:<5} {a['key']}  {_short(a['locator'], base)}"
              f"  ({a['username']})" for a in adoptions]
    return [*lines, ""]


def _change(change: dict[str, Any], base: str) -> list[str]:
    head = f"{_SYMBOL[change['action']]} {change['kind']:<5} {change['key']}  "
    head += _short(change["locator"], base) or f"(new: {change['username'] or change['key']})"
    if change["new_locator"]:
        head += f"  ->  {_short(change['new_locator'], base)}"
    lines = [head]
    if change["why"] and change["action"] != "update":
        lines.append(f"    why: {change['why']}")
    for attr in change["attributes"]:
        lines.append(_attribute(attr, change["action"], base))
    return lines


def _attribute(attr: dict[str, Any], action: str, base: str) -> str:
    name = f"    {attr['name']:<{_WIDTH}}" + " " * (len(attr["name"]) >= _WIDTH)
    if "add" in attr and action != "create":
        delta = [f"+ {_short(v, base)}" for v in attr["add"]]
        delta += [f"- {_short(v, base)}" for v in attr["remove"]]
        return name + "   ".join(delta)
    if action == "create":
        return name + _values(attr["after"], base, limit=SHOWN_VALUES)
    return f"{name}{_values(attr['before'], base)}  ->  {_values(attr['after'], base)}"


def _values(values: Any, base: str, limit: int | None = None) -> str:
    if isinstance(values, str):  # "(sensitive)"
        return values
    if not values:
        return "(none)"
    shown = ", ".join(f'"{_short(v, base)}"' for v in values[:limit])
    more = len(values) - len(values[:limit])
    return f"{shown} ... and {more} more (see --json)" if more else shown


def _tally(plan: dict[str, Any]) -> str:
    summary = plan["summary"]
    main = ", ".join(f"{summary[w]} {w}" for w in ("create", "update", "disable", "delete"))
    rest = ", ".join(f"{summary[w]} {w}" for w in ("move", "enable"))
    return f"{plan['target']}: {main} ({rest})"


def _guard(guard: dict[str, Any]) -> str:
    state = "TRIPPED" if guard["tripped"] else "ok"
    if guard["name"] in ("deletes", "member_removals"):
        name = guard["name"].replace("_", " ")
        return f"{name} {guard['value']:g}/{guard['limit']:g} {state}"
    detail = f" ({guard['detail']})" if guard.get("detail") else ""
    return (f"{guard['name'].replace('_', ' ')} {guard['value']:.1%}/{guard['limit']:.0%} "
            f"{state}{detail}")
