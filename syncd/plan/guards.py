"""Safety guards: a plan that would disable or delete too much applies nothing destructive.

A sync job that empties half a directory is the outage this project exists to prevent:
disables and deletes are counted together against `safety.max_deletes` and
`safety.max_delete_ratio` (of the objects syncd manages in the target). Removing people
from groups takes access away just as surely, so a plan that would remove more
memberships than `max_deletes` *and* more than `max_delete_ratio` of them (a broken
`members` expression, not a reorganisation) holds those removals back too. `--allow-deletes
N` lets an operator accept up to N once.
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
    removals = membership_removals(plan.changes)
    removal_ratio = removals / plan.memberships if plan.memberships else 0.0
    removals_allowed = allow_deletes is not None and removals <= allow_deletes
    return [
        GuardResult("deletes", count, max_deletes, count > max_deletes and not allowed),
        GuardResult("delete_ratio", round(ratio, 4), max_delete_ratio,
                    ratio > max_delete_ratio and not allowed),
        GuardResult("member_removals", removals, max_deletes,
                    removals > max_deletes and removal_ratio > max_delete_ratio
                    and not removals_allowed),
    ]


def membership_removals(changes: list[Change]) -> int:
    """Group members a plan removes, not counting people it disables or deletes (the
    deletes guard counts those already)."""
    leaving = {norm_dn(c.dn) for c in changes if c.kind == "user" and c.action.destructive}
    return sum(1 for c in changes if c.kind == "group" and not c.action.destructive
               for a in c.attributes if a.multi
               for value in a.remove if norm_dn(value) not in leaving)


def hold_back(changes: list[Change], tripped: list[GuardResult]
              ) -> tuple[list[Change], list[Change]]:
    """Split a guarded plan into what may still be applied and what is held back.

    Held back when a deletes guard tripped: every disable and delete, and the group-
    membership removals of the users whose disable is held (they keep their access
    until someone decides). When the member_removals guard tripped: every removal of a
    member. Creates, updates and new memberships still go ahead.
    """
    names = {guard.name for guard in tripped}
    deletes_held = bool(names & {"deletes", "delete_ratio"})
    held = [c for c in changes if c.action.destructive] if deletes_held else []
    held_users = {norm_dn(c.dn) for c in held if c.kind == "user"}
    keep_all = "member_removals" in names
    allowed = []
    for change in changes:
        if change.action.destructive and deletes_held:
            continue
        attributes = [_keep_members(a, held_users, keep_all) for a in change.attributes]
        attributes = [a for a in attributes if a.changed]
        if attributes or change.new_dn:
            allowed.append(replace(change, attributes=attributes))
    return allowed, held


def _keep_members(change: AttrChange, held_users: set[str], keep_all: bool) -> AttrChange:
    if not change.multi or not change.remove:
        return change
    kept = tuple(v for v in change.before if v not in change.after
                 and (keep_all or norm_dn(v) in held_users))
    return replace(change, after=tuple(sorted((*change.after, *kept))))
