"""References made concrete when a change is applied, not when it is planned.

A plan names members and managers as `Ref`s. Where each object is (a DN, a SCIM id) is
known for certain only as the cycle goes: a user created a moment ago has the id the
server just gave it, a user whose create or move was refused is not where the plan
expected. `Locations` follows that, and `concrete` turns a planned change into one a
target can write: text values only, a group naming only objects that exist, a member
whose move was refused named where it still is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from syncd.objects import Ref, Value, Values
from syncd.plan.model import Action, AttrChange, Change

Key = tuple[str, str]


class Locations:
    """Where each object syncd manages in one target is now, kept as changes land."""

    def __init__(self, found: dict[Key, str], locator_key: Callable[[str], str]):
        self._where = dict(found)
        self._key = locator_key
        self._missing: set[Key] = set()  # refused creates: not there at all

    def resolve(self, ref: Ref) -> str | None:
        """Where the object is now; else, for one still to be created where its mapping
        places it (a DN), that place; None for one that does not exist."""
        which = (ref.kind, ref.key)
        if which in self._where:
            return self._where[which]
        if which in self._missing or not ref.where:
            return None
        return ref.shown

    def refused(self, change: Change) -> None:
        """A change the target refused: a refused create leaves no object to name."""
        if change.action is Action.CREATE:
            self._missing.add((change.kind, change.key))

    def landed(self, change: Change, anchor: str | None) -> None:
        """A change the target carried out; `anchor` is the id it gave a created object
        (where a target's locators are its ids, that is the locator too)."""
        which = (change.kind, change.key)
        if change.action is Action.DELETE:
            self._where.pop(which, None)
        elif where := change.new_locator or change.locator or anchor:
            self._where[which] = where

    def concrete(self, change: Change) -> Change | None:
        """The change with every reference resolved; None for a group to create whose
        members do not exist (their creates were refused): it waits for them."""
        attributes = [self._attribute(a) for a in change.attributes]
        if change.action is Action.CREATE:
            if any(a.multi and planned.after and not a.after
                   for a, planned in zip(attributes, change.attributes, strict=True)):
                return None
            return replace(change, attributes=attributes)
        return replace(change, attributes=[a for a in attributes if a.changed])

    def _attribute(self, change: AttrChange) -> AttrChange:
        if not any(isinstance(v, Ref) for v in (*change.before, *change.after)):
            return change
        before = tuple(v.shown if isinstance(v, Ref) else v for v in change.before)
        spelt = {self._key(v): v for v in before}  # the add and remove are text differences
        after: list[Value] = []
        for value in change.after:
            text = self.resolve(value) if isinstance(value, Ref) else value
            if text is not None:
                after.append(spelt.get(self._key(text), text))
        return replace(change, before=before, after=_unique(after))


def _unique(values: list[Value]) -> Values:
    return tuple(dict.fromkeys(values))
