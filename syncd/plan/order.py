"""The safe order to apply a plan in.

Parents before children, users before the groups that name them, and everything
destructive last: OUs parent-first, users, groups, then user disables and deletes,
group deletes, OUs child-first. Removing members from groups comes before disabling,
so a disabled account is never left in a group. How deep an OU is the target says
(`Capabilities.depth`): the planner never reads a locator itself. Where the target
refuses a reference to an object not there yet (a SCIM manager, AD's manager), a new
user comes after the new users it names, so its create names them and needs no
follow-up (only a cycle of references still does).
"""

from __future__ import annotations

from collections.abc import Callable

from syncd.objects import GROUP, OU, USER, Ref, no_depth
from syncd.plan.model import Action, Change

_BUILD = {OU: 0, USER: 1, GROUP: 2}
_TEAR_DOWN = {USER: 3, GROUP: 4, OU: 5}


def ordered(changes: list[Change], depth: Callable[[str], int] = no_depth,
            references_first: bool = False) -> list[Change]:
    def rank(change: Change) -> tuple[int, int, str]:
        where = change.locator or ""
        levels = depth(where) if change.kind == OU and where else 0
        if change.action.destructive:
            return _TEAR_DOWN[change.kind], -levels, where.lower() or change.key
        return _BUILD[change.kind], levels, where.lower() or change.key

    result = sorted(changes, key=rank)
    return _named_first(result) if references_first else result


def _named_first(changes: list[Change]) -> list[Change]:
    """The same changes, each new user after the new users it names (its manager), in
    the places the new users had: everything else keeps its place."""
    slots = [i for i, c in enumerate(changes) if c.kind == USER and c.action is Action.CREATE]
    creates = {(changes[i].kind, changes[i].key): changes[i] for i in slots}
    placed: list[Change] = []
    done: set[tuple[str, str]] = set()

    def place(change: Change, seen: set[tuple[str, str]]) -> None:
        which = (change.kind, change.key)
        if which in done or which in seen:  # placed already, or a cycle: left as it is
            return
        seen.add(which)
        for named in _named(change):
            if named in creates:
                place(creates[named], seen)
        done.add(which)
        placed.append(change)

    for i in slots:
        place(changes[i], set())
    result = list(changes)
    for i, change in zip(slots, placed, strict=True):
        result[i] = change
    return result


def _named(change: Change) -> list[tuple[str, str]]:
    return [(v.kind, v.key) for a in change.attributes for v in a.after if isinstance(v, Ref)]
