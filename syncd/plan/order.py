"""The safe order to apply a plan in.

Parents before children, users before the groups that name them, and everything
destructive last: OUs parent-first, users, groups, then user disables and deletes,
group deletes, OUs child-first. Removing members from groups comes before disabling,
so a disabled account is never left in a group.
"""

from __future__ import annotations

from syncd.objects import GROUP, OU, USER, split_dn
from syncd.plan.model import Change

_BUILD = {OU: 0, USER: 1, GROUP: 2}
_TEAR_DOWN = {USER: 3, GROUP: 4, OU: 5}


def ordered(changes: list[Change]) -> list[Change]:
    return sorted(changes, key=_rank)


def _rank(change: Change) -> tuple[int, int, str]:
    depth = len(split_dn(change.dn))  # escaped commas are no levels
    if change.action.destructive:
        phase = _TEAR_DOWN[change.kind]
        return phase, -depth if change.kind == OU else 0, change.dn.lower()
    phase = _BUILD[change.kind]
    return phase, depth if change.kind == OU else 0, change.dn.lower()

