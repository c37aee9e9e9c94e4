"""The safe order to apply a plan in.

Parents before children, users before the groups that name them, and everything
destructive last: OUs parent-first, users, groups, then user disables and deletes,
group deletes, OUs child-first. Removing members from groups comes before disabling,
so a disabled account is never left in a group. How deep an OU is the target says
(`Capabilities.depth`): the planner never reads a locator itself.
"""

from __future__ import annotations

from collections.abc import Callable

from syncd.objects import GROUP, OU, USER, no_depth
from syncd.plan.model import Change

_BUILD = {OU: 0, USER: 1, GROUP: 2}
_TEAR_DOWN = {USER: 3, GROUP: 4, OU: 5}


def ordered(changes: list[Change], depth: Callable[[str], int] = no_depth) -> list[Change]:
    def rank(change: Change) -> tuple[int, int, str]:
        where = change.locator or ""
        levels = depth(where) if change.kind == OU and where else 0
        if change.action.destructive:
            return _TEAR_DOWN[change.kind], -levels, where.lower() or change.key
        return _BUILD[change.kind], levels, where.lower() or change.key

    return sorted(changes, key=rank)
