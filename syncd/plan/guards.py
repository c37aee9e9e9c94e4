"""Safety guards: a plan that would disable or delete too much applies nothing destructive.

A sync job that empties half a directory is the outage this project exists to prevent:
disables and deletes are counted together against `safety.max_deletes` and
`safety.max_delete_ratio` (of the objects syncd manages in the target), and
`--allow-deletes N` lets an operator accept up to N once.
"""

from __future__ import annotations

from dataclasses import replace

from syncd.objects import norm_dn
from syncd.plan.model import AttrChange, Change, GuardResult, Plan


def check_guards(plan: Plan, max_deletes: int, max_delete_ratio: float,
                 allow_deletes: int | None = None) -> list[GuardResult]:
    count = len(plan.destructive)
    ratio = count / plan.managed if plan.managed else 0.0
    allowed = allow_deletes is not None and count <= allow_deletes
    return [
        GuardResult("deletes", count, max_deletes, count > max_deletes and not allowed),
        GuardResult("delete_ratio", round(ratio, 4), max_delete_ratio,
                    ratio > max_delete_ratio and not allowed),
    ]


def hold_back(changes: list[Change]) -> tuple[list[Change], list[Change]]:
    """Split a guarded plan into what may still be applied and what is held back.

    Held back: every disable and delete, and the group-membership removals of the
    users whose disable is held (they keep their access until someone decides).
    """
    held = [c for c in changes if c.action.destructive]
    held_users = {norm_dn(c.dn) for c in held if c.kind == "user"}
    allowed = []
    for change in changes:
        if change.action.destructive:
            continue
        attributes = [_keep_members(a, held_users) for a in change.attributes]
        attributes = [a for a in attributes if a.changed]
        if attributes or change.new_dn:
            allowed.append(replace(change, attributes=attributes))
    return allowed, held


def _keep_members(change: AttrChange, held_users: set[str]) -> AttrChange:
    if not change.multi or not change.remove:
        return change
    kept = tuple(v for v in change.before if norm_dn(v) in held_users and v not in change.after)
    return replace(change, after=tuple(sorted((*change.after, *kept))))
