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
from syncd.plan.model import Action, AttrChange, Change, GuardResult, Plan


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
    """Group memberships a plan removes, a group deleted with its members included, not
    counting people it disables or deletes (the deletes guard counts those)."""
    leaving = _leaving_users(changes)
    return sum(1 for change in changes if change.kind == "group"
               for value in _removed_members(change) if norm_dn(value) not in leaving)


def hold_back(changes: list[Change], tripped: list[GuardResult]
              ) -> tuple[list[Change], list[Change]]:
    """Split a guarded plan into what may still be applied and what is held back.

    A deletes guard holds every disable and delete, and the membership removals of the
    users whose disable is held (they keep their access until someone decides). The
    member_removals guard holds every membership removal of people who stay, and the
    group deletes that would remove them. Creates, updates and new memberships still go
    ahead; everything not applied is in the second list.
    """
    names = {guard.name for guard in tripped}
    hold_destructive = bool(names & {"deletes", "delete_ratio"})
    hold_removals = "member_removals" in names
    leaving = _leaving_users(changes)
    held_users = leaving if hold_destructive else set()
    allowed, held = [], []
    for change in changes:
        removes_access = hold_removals and change.action is Action.DELETE and any(
            norm_dn(v) not in leaving for v in _removed_members(change))
        if (change.action.destructive and hold_destructive) or removes_access:
            held.append(change)
            continue
        if change.action.destructive:
            allowed.append(change)
            continue
        kept = held_users | ({norm_dn(v) for v in _removed_members(change)} - leaving
                             if hold_removals else set())
        attributes = [_keep_members(a, kept) for a in change.attributes]
        attributes = [a for a in attributes if a.changed]
        if attributes or change.new_dn:
            allowed.append(replace(change, attributes=attributes))
    return allowed, held


def _leaving_users(changes: list[Change]) -> set[str]:
    return {norm_dn(c.dn) for c in changes if c.kind == "user" and c.action.destructive}


def _removed_members(change: Change) -> list[str]:
    return [value for a in change.attributes if a.multi for value in a.remove]


def _keep_members(change: AttrChange, kept: set[str]) -> AttrChange:
    """The attribute change without removing the members in `kept`."""
    if not change.multi or not change.remove:
        return change
    stay = tuple(v for v in change.before if v not in change.after and norm_dn(v) in kept)
    return replace(change, after=tuple(sorted((*change.after, *stay))))
