"""References made concrete when a change is applied, not when it is planned.

A plan names members and managers as `Ref`s. Where each object is (a DN, a SCIM id) is
known for certain only as the cycle goes: a user created a moment ago has the id the
server just gave it, a user whose create or move was refused is not where the plan
expected. `Locations` follows that, and `concrete` turns a planned change into one a
target can write: text values only, a group naming only objects that exist, a member
whose move was refused named where it still is.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace

from syncd.objects import Ref, Value, Values
from syncd.plan.model import Action, AttrChange, Change

Key = tuple[str, str]


class Locations:
    """Where each object syncd manages in one target is now, kept as changes land.

    `creating`: the objects the plan creates. A reference to one not created yet (a
    manager later in the order, a group nested in a group made this cycle) cannot be
    named where the target gives the ids; the change goes without it, and `later` has
    a follow-up that adds it once the change and the object it names have landed."""

    def __init__(self, found: dict[Key, str], locator_key: Callable[[str], str],
                 creating: Iterable[Key] = (), *, must_exist: bool = False):
        self._where = dict(found)
        self._key = locator_key
        self._must_exist = must_exist
        self._creating = set(creating)
        self._missing: set[Key] = set()  # refused creates: not there at all
        self._waiting: dict[Key, list[AttrChange]] = {}  # per change: what it could not name
        self._later: list[Change] = []
        self._settling = False  # applying follow-ups: what cannot be named now waits a cycle

    def resolve(self, ref: Ref) -> str | None:
        """Where the object is now; else, for one still to be created where its mapping
        places it (a DN), that place, unless the target wants it to exist first; None
        for one that does not exist (yet)."""
        which = (ref.kind, ref.key)
        if which in self._where:
            return self._where[which]
        if which in self._missing or not ref.where or self._must_exist:
            return None
        return ref.shown

    def refused(self, change: Change) -> None:
        """A change the target refused (or one not made at all): a create that did not
        happen leaves no object to name."""
        which = (change.kind, change.key)
        self._waiting.pop(which, None)
        self._creating.discard(which)
        if change.action is Action.CREATE:
            self._missing.add(which)

    def landed(self, change: Change, anchor: str | None) -> None:
        """A change the target carried out; `anchor` is the id it gave a created object
        (where a target's locators are its ids, that is the locator too)."""
        which = (change.kind, change.key)
        self._creating.discard(which)
        if change.action is Action.DELETE:
            self._where.pop(which, None)
        elif where := change.new_locator or change.locator or anchor:
            self._where[which] = where
        if waiting := self._waiting.pop(which, None):
            self._later.append(Change(Action.UPDATE, change.kind, change.key,
                                      self._where.get(which), attributes=waiting,
                                      why="names what this cycle created after it",
                                      rule=change.rule, source=change.source,
                                      username=change.username))

    def later(self) -> list[Change]:
        """Follow-ups of landed changes: the references they could not name then. Called
        once every planned change was tried; a follow-up gets no follow-up of its own."""
        self._settling = True
        later, self._later = self._later, []
        return later

    def concrete(self, change: Change) -> Change | None:
        """The change with every reference resolved; None for a group to create whose
        members do not exist (their creates were refused): it waits for them."""
        resolved = [self._attribute(a) for a in change.attributes]
        attributes = [a for a, _ in resolved]
        waiting = [AttrChange(a.name, (), wanted, multi=a.multi, sensitive=a.sensitive)
                   for a, wanted in resolved if wanted]
        if waiting and not self._settling:
            self._waiting[(change.kind, change.key)] = waiting
        if change.action is Action.CREATE:
            if any(a.multi and planned.after and not a.after and not wanted
                   for (a, wanted), planned in zip(resolved, change.attributes, strict=True)):
                self.refused(change)  # not made this cycle: nothing may wait for it
                return None
            return replace(change, attributes=attributes)
        return replace(change, attributes=[a for a in attributes if a.changed])

    def _attribute(self, change: AttrChange) -> tuple[AttrChange, Values]:
        """The attribute with its references as text, and the references it must wait
        for (to objects this cycle creates later)."""
        if not any(isinstance(v, Ref) for v in (*change.before, *change.after)):
            return change, ()
        before = tuple(v.shown if isinstance(v, Ref) else v for v in change.before)
        spelt = {self._key(v): v for v in before}  # the add and remove are text differences
        after: list[Value] = []
        waiting: list[Value] = []
        for value in change.after:
            text = self.resolve(value) if isinstance(value, Ref) else value
            if text is not None:
                after.append(spelt.get(self._key(text), text))
            elif isinstance(value, Ref) and (value.kind, value.key) in self._creating:
                waiting.append(value)
        return replace(change, before=before, after=_unique(after)), tuple(waiting)


def _unique(values: list[Value]) -> Values:
    return tuple(dict.fromkeys(values))
