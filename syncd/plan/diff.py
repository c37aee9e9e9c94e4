"""Wanted against found: the changes that make a target match the mapping.

Only objects syncd owns (its registry names them) or that a correlation rule adopts are
ever changed; everything else in the directory is counted as foreign and left alone.
Group membership is diffed as a set and only ever touches entries of our own users:
a service account someone added to a unit group by hand stays there.

Groups and OU-tree OUs carry a marker (`syncd:TARGET:group:RULE:KEY` in the attribute
the mapping names as their `anchor`, believed only as syncd.markers says): one the
registry has no row for (a lost or replaced store) is re-adopted by it, as users are by
their anchor, and said so in a notice. One nothing wants any more is registered in the
cycle that finds it and deleted no earlier than the next, so that a marker no one
expected costs a plan to read, not an entry.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from syncd.markers import Markers
from syncd.objects import (
    ACTIVE,
    DELETED,
    DISABLED,
    GROUP,
    KEPT,
    OU,
    USER,
    Capabilities,
    Entry,
    Owned,
    Ref,
    Value,
    Values,
    Wanted,
)
from syncd.plan.model import Action, AttrChange, Change

Key = tuple[str, str]  # (kind, key): what the planner knows an object by


@dataclass
class Diff:
    changes: list[Change] = field(default_factory=list)
    in_sync: list[tuple[Wanted, Entry]] = field(default_factory=list)  # ours, nothing to do
    problems: list[tuple[str, str]] = field(default_factory=list)  # (kind, message)
    managed: dict[str, int] = field(default_factory=dict)  # kind -> entries syncd owns
    memberships: int = 0  # our users as members of our groups, as found
    foreign: int = 0
    notices: list[str] = field(default_factory=list)  # worth saying, nothing wrong
    located: dict[Key, str] = field(default_factory=dict)  # ours as found: where each is


@dataclass(frozen=True)
class Frozen:
    """What a failed template leaves exactly as it is: persons and group keys."""

    persons: set[str] = field(default_factory=set)
    groups: set[str] = field(default_factory=set)


def diff(wanted: list[Wanted], found: list[Entry], owned: dict[Key, Owned], *,
         anchor: str, username_attribute: str, frozen: Frozen,
         capabilities: Capabilities, markers: Markers | None = None) -> Diff:
    """`markers`: the groups' and OUs' markers of this target's mapping; `capabilities`:
    the target's, which say how its locators compare and which attributes are
    references."""
    return _Differ(wanted, found, owned, anchor, username_attribute, frozen,
                   markers or Markers(""), capabilities).run()


class _Differ:
    def __init__(self, wanted: list[Wanted], found: list[Entry], owned: dict[Key, Owned],
                 anchor: str, username_attribute: str, frozen: Frozen, markers: Markers,
                 capabilities: Capabilities):
        self.wanted, self.owned, self.anchor, self.frozen = wanted, owned, anchor, frozen
        self.username_attribute, self.caps = username_attribute, capabilities
        self.key = capabilities.locator_key
        self.by_loc = {self.key(entry.locator): entry for entry in found}
        # Protected entries are found (a registered account that became protected is
        # reported, not created again) but never ours: `_current` hides them.
        self.protected = {self.key(entry.locator) for entry in found if entry.protected}
        self.by_id = {entry.anchor: entry for entry in found if entry.anchor}
        self.by_anchor: dict[str, list[Entry]] = defaultdict(list)  # users' anchors
        for entry in found:
            for value in entry.get(anchor) if entry.may_be(USER) else ():
                self.by_anchor[value].append(entry)
        usable = [entry for entry in found if not entry.protected]
        self.markers, self.marked = markers, _marked(usable, markers, self.key)
        self.registered = {self.key(own.locator) for own in owned.values()
                           if own.state != DELETED and own.locator
                           and self.key(own.locator) not in self.protected}
        self.out = Diff()

    def run(self) -> Diff:
        current = {id(w): self._current(w) for w in self.wanted}
        self.ours = self._ours_found(current)
        self.kept = {self.key(e.locator) for person in self.frozen.persons
                     for e in self.by_anchor.get(person, ())}
        self.out.located = {(r.kind, r.key): self.by_loc[loc].locator
                            for loc, r in self.ours.items()}
        self._places(current)
        for w in self.wanted:
            if not self._protected(w):
                self._compare(w, current[id(w)])
        self._orphans({(w.kind, w.key) for w in self.wanted})
        self._notice_readopted()
        self._notice_recreated()
        kinds = [ref.kind for ref in self.ours.values()]
        self.out.managed = {kind: kinds.count(kind) for kind in (OU, USER, GROUP)}
        self.out.memberships = sum(
            1 for w in self.wanted if w.kind == GROUP and (group := current[id(w)])
            for name in w.multi for value in group.get(name) if self._removable(value))
        self.out.foreign = len(self.by_loc) - len(self.ours)
        return self.out

    def _ours_found(self, current: dict[int, Entry | None]) -> dict[str, Ref]:
        """Locator key -> the object of ours found there: wanted, registered or marked."""
        ours = {self.key(e.locator): Ref(w.kind, w.key) for w in self.wanted
                if (e := current[id(w)]) and w.rule != "containers"}
        for own in self.owned.values():
            if own.state != DELETED and own.locator and self._at(own.locator, own.kind) \
                    and self.key(own.locator) not in self.protected:
                ours.setdefault(self.key(own.locator), Ref(own.kind, own.key))
        for (kind, key), entry in self.marked.items():
            ours.setdefault(self.key(entry.locator), Ref(kind, key))
        return ours

    def _places(self, current: dict[int, Entry | None]) -> None:
        """Where each wanted object will be once the plan is applied ("" where the target
        has yet to assign it), and how a plan shows a reference to it."""
        self.places: dict[Key, str] = {}
        self.shown: dict[Key, str] = {}
        self.wanted_at: dict[str, Key] = {}  # a wanted locator -> the object wanted there
        for w in self.wanted:
            cur = current[id(w)]
            locator = w.locator or (cur.locator if cur else None)
            self.places[(w.kind, w.key)] = self.key(locator) if locator else ""
            self.shown[(w.kind, w.key)] = locator or w.username or w.key
            if w.locator and w.state != DELETED:
                self.wanted_at.setdefault(self.key(w.locator), (w.kind, w.key))

    def _current(self, w: Wanted) -> Entry | None:
        """The entry that is this object now: registered, else adopted, else none; never
        a protected one (an OU that exists is enough, protected or not: it is never
        marked as ours)."""
        entry = self._found_for(w)
        return None if entry is None or (entry.protected and w.kind != OU) else entry

    def _found_for(self, w: Wanted) -> Entry | None:
        own = self.owned.get((w.kind, w.key))
        if w.kind == USER:
            if own and own.state != DELETED:
                return self._registered_user(w, own)
            return self.by_loc.get(self.key(w.adopt)) if w.adopt else None
        if w.kind == GROUP:
            registered = self._at(own.locator, GROUP) if own and own.locator else None
            return registered or self.marked.get((w.kind, w.key))
        assert w.locator is not None, "an OU is always placed by its mapping"
        return self.by_loc.get(self.key(w.locator))  # an OU that exists, ours or not

    def _at(self, locator: str, kind: str) -> Entry | None:
        """The entry at `locator`, if it may be an object of `kind`."""
        entry = self.by_loc.get(self.key(locator))
        return entry if entry is not None and entry.may_be(kind) else None

    def _registered_user(self, w: Wanted, own: Owned) -> Entry | None:
        """Our user's entry: by the target's own id, else where we left it or want it,
        else (moved by someone) the one entry with our anchor *and* our username. An entry
        that merely carries the person id is someone else's and is never taken over."""
        if own.anchor and (entry := self.by_id.get(own.anchor)) and entry.may_be(USER):
            return entry
        candidates = self.by_anchor.get(w.key, [])
        for locator in (own.locator, w.locator):
            for entry in candidates:
                if locator and self.key(entry.locator) == self.key(locator):
                    return entry
        username = (w.username or own.username or "").lower()
        named = [e for e in candidates
                 if username in {v.lower() for v in e.get(self.username_attribute)}]
        return named[0] if len(named) == 1 else None

    def _protected(self, w: Wanted) -> bool:
        """An account or group of ours (or one the mapping wants) that the target now
        protects is left exactly as it is, and the plan says so: its lifecycle ends
        there (a leaver is not disabled), which nobody should learn by surprise."""
        entry = self._found_for(w)
        if entry is None or not entry.protected or w.kind == OU:
            return False
        self._problem(w, f"{entry.locator} is protected (protected / protected_filter): "
                         f"left as it is, though the mapping wants it {w.state}")
        return True

    def _compare(self, w: Wanted, cur: Entry | None) -> None:
        if w.state == DELETED:
            if cur is not None:
                self._add(Action.DELETE, w, cur.locator)
            return
        if cur is None:
            if w.state == ACTIVE:
                self._create(w)
            return
        if w.kind == OU and not self._marks_ours(w, cur):
            return
        new = self._new_locator(w, cur)
        if new and self.key(new) in self.by_loc:
            self._problem(w, f"cannot move {cur.locator} to {new}: an entry syncd does not "
                             "own is there; left alone")
            return
        changes = self._attributes(w, cur)
        if not new and not changes:  # a state change that writes nothing: `_settled`'s
            self.out.in_sync.append((w, cur))
            return
        self._add(self._action(w, new), w, cur.locator, new, changes)

    def _new_locator(self, w: Wanted, cur: Entry) -> str | None:
        if not self.caps.moves or not w.locator:
            return None
        return w.locator if self.key(cur.locator) != self.key(w.locator) else None

    def _marks_ours(self, w: Wanted, cur: Entry) -> bool:
        """An existing OU gets its marker only if it is ours: registered, or marked."""
        loc = self.key(cur.locator)
        return w.marker is not None and (loc in self.registered or (OU, loc) in self.marked)

    def _action(self, w: Wanted, new: str | None) -> Action:
        own = self.owned.get((w.kind, w.key))
        was_disabled = own is not None and own.state == DISABLED
        if w.state == DISABLED:  # once: a disabled account's later updates are updates
            return Action.UPDATE if was_disabled and not new else Action.DISABLE
        if was_disabled:
            return Action.ENABLE
        return Action.MOVE if new else Action.UPDATE

    def _create(self, w: Wanted) -> None:
        if w.locator and self.key(w.locator) in self.by_loc:
            self._problem(w, f"{w.locator} is held by an entry syncd does not own and no "
                             "correlation rule adopts; left alone")
            return
        attrs: dict[str, Values] = {**w.create_only, **w.attrs}
        changes = [AttrChange(name, (), self._wanted(name, after, ()),
                              multi=name in w.multi, sensitive=name in w.sensitive)
                   for name, after in attrs.items() if after]
        self._add(Action.CREATE, w, w.locator, None, changes)

    def _attributes(self, w: Wanted, cur: Entry) -> list[AttrChange]:
        changes = []
        for name, wanted in w.attrs.items():
            found = cur.get(name)
            if found and name in w.fill_only:
                continue
            multi = name in w.multi
            before = self._found(name, found)
            after = self._wanted(name, wanted, before)
            if multi and self.caps.is_reference(name):
                after = self._members(before, after)
            if (set(before) == set(after)) if multi else before == after:
                continue
            changes.append(AttrChange(name, before, after, multi=multi,
                                      sensitive=name in w.sensitive))
        return changes

    # --- references ------------------------------------------------------------------

    def _found(self, name: str, values: tuple[str, ...]) -> Values:
        """Values as read; in a reference attribute, each naming an object of ours is a
        Ref to it (shown as it was read)."""
        if not self.caps.is_reference(name):
            return values
        return tuple(Ref(ref.kind, ref.key, loc, value)
                     if (ref := self.ours.get(loc := self.key(value))) else value
                     for value in values)

    def _wanted(self, name: str, values: Values, before: Values) -> Values:
        """Wanted values; in a reference attribute, each a Ref placed where its object
        will be, spelt as `before` has it where it is the same. A value read that names
        that place already (an entry not yet created when it was written) is the same
        value: the plan leaves it be."""
        if not self.caps.is_reference(name):
            return values
        as_found = {self._ident(v): v for v in before}
        placed = (self._placed(v) for v in values)
        return tuple(as_found.get(self._ident(v))
                     or (isinstance(v, Ref) and v.where and as_found.get(v.where)) or v
                     for v in placed)

    def _placed(self, value: Value) -> Value:
        """A wanted reference: a Ref from the mapping, or text that names where one of
        the wanted objects is to be (a rendered DN), with where it will be."""
        if isinstance(value, str):
            if (wanted := self.wanted_at.get(self.key(value))) is None:
                return value
            value = Ref(*wanted)
        which = (value.kind, value.key)
        found = self.out.located.get(which)
        return Ref(value.kind, value.key,
                   self.places.get(which, self.key(found) if found else ""),
                   value.shown or self.shown.get(which, found or ""))

    def _ident(self, value: Value) -> object:
        return value if isinstance(value, Ref) else self.key(value)

    def _members(self, before: Values, after: Values) -> Values:
        """Wanted members plus every current member that is not one of our users: a
        service account someone added by hand stays, and so do the members that a
        failed template froze."""
        kept = [v for v in before if not self._removable(v)]
        merged = {self._ident(v): v for v in (*kept, *after)}
        return tuple(sorted(merged.values(), key=str))

    def _removable(self, value: Value) -> bool:
        """A found member syncd may take out: one of ours, not frozen."""
        loc = value.where if isinstance(value, Ref) else self.key(value)
        return loc in self.ours and loc not in self.kept

    # --- what nothing wants ----------------------------------------------------------

    def _orphans(self, wanted_keys: set[Key]) -> None:
        """Groups and OUs we own that nothing wants any more (OUs only when empty).

        A group a failed template could not render, or one that still names a person
        whose template failed, is left alone: a broken template never removes access.
        """
        deleting: set[str] = set()
        unwanted = [(kind, key, own.locator) for (kind, key), own in self.owned.items()
                    if kind in (GROUP, OU) and (kind, key) not in wanted_keys
                    and key not in self.frozen.groups and own.locator and own.state != KEPT]
        for (kind, key), marked in self.marked.items():
            if (kind, key) not in self.owned and (kind, key) not in wanted_keys:
                self._register(kind, key, marked)
        for kind, key, locator in sorted(unwanted, key=lambda o: -self.caps.depth(o[2])):
            entry = self.by_loc.get(self.key(locator))
            if entry is None or entry.protected or self._names_kept(entry):
                continue
            if kind == OU and self._has_children(entry.locator, deleting):
                continue
            deleting.add(self.key(entry.locator))
            why = "no member wanted any more" if kind == GROUP else "no longer wanted and empty"
            self.out.changes.append(Change(Action.DELETE, kind, key, entry.locator, why=why,
                                           rule="orphans", attributes=self._members_of(entry)))

    def _register(self, kind: str, key: str, entry: Entry) -> None:
        """An object found by its marker that nothing wants: registered now, as in sync,
        and deleted by a later cycle's orphans, never by the cycle that adopts it."""
        held = Wanted(kind=kind, key=key, locator=entry.locator, attrs={}, rule="orphans",
                      why="found by its marker, no longer wanted: deleted next cycle")
        self.out.in_sync.append((held, entry))

    def _members_of(self, entry: Entry) -> list[AttrChange]:
        """Our users a group delete takes out with it: shown, and counted by the guards."""
        return [AttrChange(name, ours, (), multi=True) for name, values in entry.attrs.items()
                if self.caps.is_reference(name)
                and (ours := tuple(v for v in self._found(name, values)
                                   if self._removable(v)))]

    def _notice_readopted(self) -> None:
        """Say plainly when the registry had lost objects that carry our marker."""
        lost = [key for key in self.marked if key not in self.owned]
        if not lost:
            return
        whose = ("the store has no record of" if not self.owned else
                 "the store has lost its record of")
        self.out.notices.append(
            f"{whose} {len(lost)} object(s) syncd created in this target (marked "
            f"{', '.join(sorted(self.markers.attributes))}=syncd:...); re-adopting them "
            "(was the store deleted or replaced?)")

    def _notice_recreated(self) -> None:
        """Say plainly when objects the store says syncd made are created again: deleted
        by hand, or a read of the target that missed them (a wrong base, a provider's
        short answer)."""
        again = [c for c in self.out.changes if c.action is Action.CREATE
                 and (own := self.owned.get((c.kind, c.key))) is not None and own.locator
                 and own.state not in (DELETED, KEPT)]
        if again:
            self.out.notices.append(
                f"{len(again)} object(s) the store says syncd made are not in the target "
                "and will be created again (deleted by hand? or does the target's read "
                "miss them?)")

    def _problem(self, w: Wanted, message: str) -> None:
        self.out.problems.append((w.kind, f"{w.kind} {w.key}: {message}"))

    def _names_kept(self, entry: Entry) -> bool:
        return any(self.key(v) in self.kept for name, values in entry.attrs.items()
                   if self.caps.is_reference(name) for v in values)

    def _has_children(self, locator: str, deleting: set[str]) -> bool:
        gone = deleting | {self.key(c.locator) for c in self.out.changes
                           if c.locator and (c.action is Action.DELETE or c.new_locator)}
        here = self.key(locator)
        return any(self.caps.parent(child) == here and child not in gone
                   for child in self.by_loc)

    def _add(self, action: Action, w: Wanted, locator: str | None,
             new_locator: str | None = None, changes: list[AttrChange] | None = None) -> None:
        why, adopts = w.why, bool(w.adopt) and (w.kind, w.key) not in self.owned
        if adopts:
            why = f"adopts a pre-existing entry (correlation); {why}"
        self.out.changes.append(Change(action, w.kind, w.key, locator, new_locator,
                                       changes or [], why=why, rule=w.rule, source=w.source,
                                       username=w.username, adopts=adopts))


def _marked(found: list[Entry], markers: Markers, key: Callable[[str], str]
            ) -> dict[Key, Entry]:
    """(kind, key) -> the entry whose believed marker names it; an OU is keyed by its
    locator."""
    marked = {}
    for entry in found:
        if owner := markers.owner(entry):
            kind, name = owner
            marked[(kind, key(entry.locator) if kind == OU else name)] = entry
    return marked
