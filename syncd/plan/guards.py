"""Safety guards: a plan that would take away too much applies only what is safe.

A sync job that empties half a directory is the outage this project exists to prevent,
and it comes in more shapes than deletes:

- disables and deletes are counted together against `max_deletes` and `max_delete_ratio`
  (of the objects syncd manages in the target);
- removing people from groups takes access away just as surely, so a plan that would
  remove more memberships than `max_deletes` *and* more than `max_delete_ratio` of them
  (a broken `members` expression, not a reorganisation) holds those removals back too; a
  member rewritten because its entry moves (the same Ref, placed elsewhere) is not
  removed;
- a forgotten default or a mis-decoded export rewrites values wholesale with nothing
  deleted: per attribute, more than `max_attribute_changes` objects *and* more than
  `max_attribute_change_ratio` of the managed ones of that kind whose value changes or
  vanishes hold that attribute's changes back (new values where there were none are not
  counted; creates, disables and enables change what the lifecycle says and are
  neither counted nor split).

`hold_all` holds every change of a tripped plan instead of only what tripped. `--allow-
deletes N` / `--allow-changes N` let an operator accept up to N once.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace

from syncd.objects import GROUP, USER, Ref, Values
from syncd.plan.model import Action, AttrChange, Change, GuardResult, Plan

Key = tuple[str, str]

DELETES, DELETE_RATIO = "deletes", "delete_ratio"
# A create writes values, a disable or enable the lifecycle's own (a lock set or lifted,
# the manager removed): never split, never counted as rewrites of what a person has.
LIFECYCLE = frozenset({Action.CREATE, Action.DISABLE, Action.ENABLE})
MEMBER_REMOVALS, ATTRIBUTE_CHANGES = "member_removals", "attribute_changes"


@dataclass(frozen=True)
class Limits:
    """The safety limits of one cycle, and what the operator accepts past them once."""

    max_deletes: int = 50
    max_delete_ratio: float = 0.1
    max_attribute_changes: int = 50
    max_attribute_change_ratio: float = 0.2
    hold_all: bool = False
    allow_deletes: int | None = None
    allow_changes: int | None = None


def check_guards(plan: Plan, limits: Limits) -> list[GuardResult]:
    count = len(plan.destructive)
    ratio = count / plan.managed if plan.managed else 0.0
    allowed = limits.allow_deletes is not None and count <= limits.allow_deletes
    removals = membership_removals(plan.changes)
    removal_ratio = removals / plan.memberships if plan.memberships else 0.0
    removals_allowed = limits.allow_deletes is not None and removals <= limits.allow_deletes
    return [
        GuardResult(DELETES, count, limits.max_deletes,
                    count > limits.max_deletes and not allowed),
        GuardResult(DELETE_RATIO, round(ratio, 4), limits.max_delete_ratio,
                    ratio > limits.max_delete_ratio and not allowed),
        GuardResult(MEMBER_REMOVALS, removals, limits.max_deletes,
                    removals > limits.max_deletes and removal_ratio > limits.max_delete_ratio
                    and not removals_allowed),
        _attribute_guard(plan, limits),
    ]


def _attribute_guard(plan: Plan, limits: Limits) -> GuardResult:
    """The attribute whose values change or vanish on the largest share of its kind."""
    counts = attribute_rewrites(plan.changes)
    tripping = _tripping_attributes(plan, limits, counts)
    worst = max(counts, key=lambda k: (k in tripping, _share(plan, k, counts[k])),
                default=None)
    if worst is None:
        return GuardResult(ATTRIBUTE_CHANGES, 0.0, limits.max_attribute_change_ratio, False)
    kind, name = worst
    managed = plan.managed_by_kind.get(kind, 0)
    detail = f"{name}: {counts[worst]} of {managed} {kind}s"
    return GuardResult(ATTRIBUTE_CHANGES, round(_share(plan, worst, counts[worst]), 4),
                       limits.max_attribute_change_ratio, bool(tripping), detail)


def _share(plan: Plan, kind_name: tuple[str, str], count: int) -> float:
    managed = plan.managed_by_kind.get(kind_name[0], 0)
    return count / managed if managed else 0.0


def _tripping_attributes(plan: Plan, limits: Limits,
                         counts: Counter[tuple[str, str]]) -> set[tuple[str, str]]:
    """(kind, attribute) pairs past both attribute-change limits."""
    if limits.allow_changes is not None and max(counts.values(), default=0) <= \
            limits.allow_changes:
        return set()
    return {key for key, count in counts.items()
            if count > limits.max_attribute_changes
            and _share(plan, key, count) > limits.max_attribute_change_ratio}


def attribute_rewrites(changes: list[Change]) -> Counter[tuple[str, str]]:
    """Per (kind, attribute as the mapping spells it): objects of ours whose single value
    changes or vanishes."""
    return Counter((change.kind, a.name) for change in changes
                   if change.action not in LIFECYCLE
                   for a in change.attributes if _rewrites(a))


def _rewrites(change: AttrChange) -> bool:
    return not change.multi and bool(change.before) and change.changed


def membership_removals(changes: list[Change]) -> int:
    """Group memberships a plan removes, a group deleted with its members included, not
    counting people it disables or deletes (the deletes guard counts those) nor members
    rewritten to the new place of an entry that moves."""
    leaving = _leaving_users(changes)
    return sum(1 for change in changes if change.kind == GROUP
               for ref in _removed_members(change) if ref not in leaving)


def hold_back(plan: Plan, limits: Limits) -> tuple[list[Change], list[Change]]:
    """Split a guarded plan into what may still be applied and what is held back.

    A deletes guard holds every disable and delete, and the membership removals of the
    users whose disable is held (they keep their access until someone decides). The
    member_removals guard holds every membership removal of people who stay, and the
    group deletes that would remove them. The attribute_changes guard holds the changes
    of the attributes that tripped it. Creates, other updates and new memberships still
    go ahead, unless `hold_all`; the second list has what is not applied.
    """
    changes, names = plan.changes, {guard.name for guard in plan.tripped}
    if not names:
        return list(changes), []
    if limits.hold_all:
        return [], list(changes)
    hold_destructive = bool(names & {DELETES, DELETE_RATIO})
    hold_removals = MEMBER_REMOVALS in names
    rewritten = (_tripping_attributes(plan, limits, attribute_rewrites(changes))
                 if ATTRIBUTE_CHANGES in names else set())
    leaving = _leaving_users(changes)
    held_users = leaving if hold_destructive else set()
    allowed, held = [], []
    for change in changes:
        removed = _removed_members(change)
        removes_access = hold_removals and change.action is Action.DELETE and any(
            ref not in leaving for ref in removed)
        if (change.action.destructive and hold_destructive) or removes_access:
            held.append(change)
            continue
        frozen = [a for a in change.attributes if change.action not in LIFECYCLE
                  and (change.kind, a.name) in rewritten and _rewrites(a)]
        if frozen:
            held.append(replace(change, attributes=frozen))
        if change.action.destructive:  # a disable goes ahead, but not the rewrites it holds
            allowed.append(replace(change, attributes=[a for a in change.attributes
                                                       if a not in frozen]))
            continue
        kept = held_users | (set(removed) - leaving if hold_removals else set())
        attributes = [_keep_members(a, kept) for a in change.attributes if a not in frozen]
        attributes = [a for a in attributes if a.changed or change.action is Action.CREATE]
        if attributes or change.new_locator or change.action is Action.CREATE:
            allowed.append(replace(change, attributes=attributes))
    return allowed, held


def _leaving_users(changes: list[Change]) -> set[Key]:
    return {(c.kind, c.key) for c in changes if c.kind == USER and c.action.destructive}


def _refs(values: Values) -> set[Key]:
    return {(v.kind, v.key) for v in values if isinstance(v, Ref)}


def _removed_members(change: Change) -> list[Key]:
    """Objects of ours a change takes out of a group; not those it only rewrites to
    where their entry moves (the same object, still a member)."""
    removed: list[Key] = []
    for a in change.attributes:
        if a.multi:
            removed += sorted(_refs(a.remove) - _refs(a.add))
    return removed


def _keep_members(change: AttrChange, kept: set[Key]) -> AttrChange:
    """The attribute change without removing the members in `kept`."""
    if not change.multi or not change.remove:
        return change
    stay = tuple(v for v in change.before if v not in change.after
                 and isinstance(v, Ref) and (v.kind, v.key) in kept)
    return replace(change, after=tuple(sorted((*change.after, *stay), key=str)))
