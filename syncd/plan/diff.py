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
from collections.abc import Iterable
from dataclasses import dataclass, field

from syncd.markers import Markers
from syncd.objects import (
    ACTIVE,
    DELETED,
    DISABLED,
    GROUP,
    OU,
    USER,
    Entry,
    Owned,
    Wanted,
    norm_dn,
    parent_dn,
    split_dn,
)
from syncd.plan.model import Action, AttrChange, Change

# Attributes whose values are DNs: compared without case or spacing differences.
DN_ATTRIBUTES = frozenset({"member", "uniquemember", "manager", "owner", "seealso", "secretary"})


@dataclass
class Diff:
    changes: list[Change] = field(default_factory=list)
    in_sync: list[tuple[Wanted, Entry]] = field(default_factory=list)  # ours, nothing to do
    problems: list[tuple[str, str]] = field(default_factory=list)  # (kind, message)
    managed: dict[str, int] = field(default_factory=dict)  # kind -> entries syncd owns
    memberships: int = 0  # our users as members of our groups, as found
    foreign: int = 0
    notices: list[str] = field(default_factory=list)  # worth saying, nothing wrong


@dataclass(frozen=True)
class Frozen:
    """What a failed template leaves exactly as it is: persons and group keys."""

    persons: set[str] = field(default_factory=set)
    groups: set[str] = field(default_factory=set)


def diff(wanted: list[Wanted], found: list[Entry], owned: dict[tuple[str, str], Owned], *,
         anchor: str, username_attribute: str, frozen: Frozen,
         markers: Markers | None = None) -> Diff:
    """`markers`: the groups' and OUs' markers of this target's mapping."""
    return _Differ(wanted, found, owned, anchor, username_attribute, frozen,
                   markers or Markers("")).run()


class _Differ:
    def __init__(self, wanted: list[Wanted], found: list[Entry],
                 owned: dict[tuple[str, str], Owned], anchor: str, username_attribute: str,
                 frozen: Frozen, markers: Markers):
        self.wanted, self.owned, self.anchor, self.frozen = wanted, owned, anchor, frozen
        self.username_attribute = username_attribute
        self.by_dn = {norm_dn(entry.dn): entry for entry in found}
        self.by_id = {entry.anchor: entry for entry in found if entry.anchor}
        self.by_anchor: dict[str, list[Entry]] = defaultdict(list)
        for entry in found:
            for value in entry.get(anchor):
                self.by_anchor[value].append(entry)
        self.markers, self.marked = markers, _marked(found, markers)
        self.registered = {norm_dn(own.dn) for own in owned.values() if own.state != DELETED}
        self.out = Diff()

    def run(self) -> Diff:
        current = {id(w): self._current(w) for w in self.wanted}
        ours = {norm_dn(e.dn): w.kind for w in self.wanted
                if (e := current[id(w)]) and w.rule != "containers"}
        for own in self.owned.values():
            if own.state != DELETED and norm_dn(own.dn) in self.by_dn:
                ours.setdefault(norm_dn(own.dn), own.kind)
        for (kind, _), entry in self.marked.items():
            ours.setdefault(norm_dn(entry.dn), kind)
        self.kept = {norm_dn(e.dn) for person in self.frozen.persons
                     for e in self.by_anchor.get(person, ())}
        self.removable = set(ours) - self.kept
        for w in self.wanted:
            self._compare(w, current[id(w)])
        self._orphans({(w.kind, w.key) for w in self.wanted})
        self._notice_readopted()
        self.out.managed = {kind: list(ours.values()).count(kind) for kind in (OU, USER, GROUP)}
        self.out.memberships = sum(
            1 for w in self.wanted if w.kind == GROUP and (group := current[id(w)])
            for name in w.multi for value in group.get(name) if norm_dn(value) in self.removable)
        self.out.foreign = len(self.by_dn) - len(ours)
        return self.out

    def _current(self, w: Wanted) -> Entry | None:
        """The entry that is this object now: registered, else adopted, else none."""
        own = self.owned.get((w.kind, w.key))
        if w.kind == USER:
            if own and own.state != DELETED:
                return self._ours(w, own)
            return self.by_dn.get(norm_dn(w.adopt_dn)) if w.adopt_dn else None
        if w.kind == GROUP:
            registered = self.by_dn.get(norm_dn(own.dn)) if own else None
            return registered or self.marked.get((w.kind, w.key))
        return self.by_dn.get(norm_dn(w.dn))  # an OU that exists, ours or not, is enough

    def _ours(self, w: Wanted, own: Owned) -> Entry | None:
        """Our user's entry: by the target's own id, else where we left it or want it,
        else (moved by someone) the one entry with our anchor *and* our username. An entry
        that merely carries the person id is someone else's and is never taken over."""
        if own.anchor and own.anchor in self.by_id:
            return self.by_id[own.anchor]
        candidates = self.by_anchor.get(w.key, [])
        for dn in (own.dn, w.dn):
            for entry in candidates:
                if norm_dn(entry.dn) == norm_dn(dn):
                    return entry
        username = (w.username or own.username or "").lower()
        named = [e for e in candidates
                 if username in {v.lower() for v in e.get(self.username_attribute)}]
        return named[0] if len(named) == 1 else None

    def _compare(self, w: Wanted, cur: Entry | None) -> None:
        if w.state == DELETED:
            if cur is not None:
                self._add(Action.DELETE, w, cur.dn)
            return
        if cur is None:
            if w.state == ACTIVE:
                self._create(w)
            return
        if w.kind == OU and not self._marks_ours(w, cur):
            return
        new_dn = w.dn if norm_dn(cur.dn) != norm_dn(w.dn) else None
        if new_dn and norm_dn(new_dn) in self.by_dn:
            self._problem(w, f"cannot move {cur.dn} to {new_dn}: an entry syncd does not own "
                             "is there; left alone")
            return
        changes = self._attributes(w, cur)
        if not new_dn and not changes:
            self.out.in_sync.append((w, cur))
            return
        self._add(self._action(w, new_dn), w, cur.dn, new_dn, changes)

    def _marks_ours(self, w: Wanted, cur: Entry) -> bool:
        """An existing OU gets its marker only if it is ours: registered, or marked."""
        return w.marker is not None and (norm_dn(cur.dn) in self.registered
                                         or (OU, norm_dn(cur.dn)) in self.marked)

    def _action(self, w: Wanted, new_dn: str | None) -> Action:
        own = self.owned.get((w.kind, w.key))
        was_disabled = own is not None and own.state == DISABLED
        if w.state == DISABLED:  # once: a disabled account's later updates are updates
            return Action.UPDATE if was_disabled and not new_dn else Action.DISABLE
        if was_disabled:
            return Action.ENABLE
        return Action.MOVE if new_dn else Action.UPDATE

    def _create(self, w: Wanted) -> None:
        if norm_dn(w.dn) in self.by_dn:
            self._problem(w, f"{w.dn} is held by an entry syncd does not own and no "
                             "correlation rule adopts; left alone")
            return
        attrs = {**w.create_only, **w.attrs}
        changes = [AttrChange(name, (), after, multi=name in w.multi,
                              sensitive=name in w.sensitive)
                   for name, after in attrs.items() if after]
        self._add(Action.CREATE, w, w.dn, None, changes)

    def _attributes(self, w: Wanted, cur: Entry) -> list[AttrChange]:
        changes = []
        for name, after in w.attrs.items():
            before = cur.get(name)
            if before and name in w.fill_only:
                continue
            multi = name in w.multi
            if multi and name.lower() in DN_ATTRIBUTES:
                after = self._members(before, after)
            if _same(name, before, after, multi):
                continue
            changes.append(AttrChange(name, before, after, multi=multi,
                                      sensitive=name in w.sensitive))
        return changes

    def _members(self, before: tuple[str, ...], after: tuple[str, ...]) -> tuple[str, ...]:
        """Wanted members plus every current member that is not one of our users, each
        member already there in the spelling the entry has: the change's add and remove
        are differences of text, and `DC=Example` against `dc=example` must not read as
        "remove everyone, add them again" (a server that takes the add as a no-op would
        apply only the remove)."""
        spelled = {norm_dn(dn): dn for dn in before}
        wanted = {norm_dn(dn): spelled.get(norm_dn(dn), dn) for dn in after}
        kept = {norm_dn(dn): dn for dn in before if norm_dn(dn) not in self.removable}
        return tuple(sorted({**kept, **wanted}.values()))

    def _orphans(self, wanted_keys: set[tuple[str, str]]) -> None:
        """Groups and OUs we own that nothing wants any more (OUs only when empty).

        A group a failed template could not render, or one that still names a person
        whose template failed, is left alone: a broken template never removes access.
        """
        deleting: set[str] = set()
        unwanted = [(kind, key, own.dn) for (kind, key), own in self.owned.items()
                    if kind in (GROUP, OU) and (kind, key) not in wanted_keys
                    and key not in self.frozen.groups]
        for (kind, key), marked in self.marked.items():
            if (kind, key) not in self.owned and (kind, key) not in wanted_keys:
                self._register(kind, key, marked)
        for kind, key, dn in sorted(unwanted, key=lambda o: -len(split_dn(o[2]))):
            entry = self.by_dn.get(norm_dn(dn))
            if entry is None or self._names_kept(entry):
                continue
            if kind == OU and self._has_children(entry.dn, deleting):
                continue
            deleting.add(norm_dn(entry.dn))
            why = "no member wanted any more" if kind == GROUP else "no longer wanted and empty"
            self.out.changes.append(Change(Action.DELETE, kind, key, entry.dn, why=why,
                                           rule="orphans", attributes=self._members_of(entry)))

    def _register(self, kind: str, key: str, entry: Entry) -> None:
        """An object found by its marker that nothing wants: registered now, as in sync,
        and deleted by a later cycle's orphans, never by the cycle that adopts it."""
        held = Wanted(kind=kind, key=key, dn=entry.dn, attrs={}, rule="orphans",
                      why="found by its marker, no longer wanted: deleted next cycle")
        self.out.in_sync.append((held, entry))

    def _members_of(self, entry: Entry) -> list[AttrChange]:
        """Our users a group delete takes out with it: shown, and counted by the guards."""
        return [AttrChange(name, ours, (), multi=True) for name, values in entry.attrs.items()
                if name.lower() in DN_ATTRIBUTES
                and (ours := tuple(v for v in values if norm_dn(v) in self.removable))]

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

    def _problem(self, w: Wanted, message: str) -> None:
        self.out.problems.append((w.kind, f"{w.kind} {w.key}: {message}"))

    def _names_kept(self, entry: Entry) -> bool:
        return any(norm_dn(v) in self.kept for values in entry.attrs.values() for v in values
                   if "=" in v)

    def _has_children(self, dn: str, deleting: Iterable[str]) -> bool:
        gone = set(deleting) | {norm_dn(c.dn) for c in self.out.changes
                                if c.action is Action.DELETE or c.new_dn}
        return any(parent_dn(child) == norm_dn(dn) and child not in gone for child in self.by_dn)

    def _add(self, action: Action, w: Wanted, dn: str, new_dn: str | None = None,
             changes: list[AttrChange] | None = None) -> None:
        why = w.why
        if w.adopt_dn and not self.owned.get((w.kind, w.key)):
            why = f"adopts a pre-existing entry (correlation); {why}"
        self.out.changes.append(Change(action, w.kind, w.key, dn, new_dn, changes or [],
                                       why=why, rule=w.rule, source=w.source,
                                       username=w.username))


def _marked(found: list[Entry], markers: Markers) -> dict[tuple[str, str], Entry]:
    """(kind, key) -> the entry whose believed marker names it; an OU is keyed by its DN."""
    marked = {}
    for entry in found:
        if owner := markers.owner(entry):
            kind, key = owner
            marked[(kind, norm_dn(entry.dn) if kind == OU else key)] = entry
    return marked


def _same(name: str, before: tuple[str, ...], after: tuple[str, ...], multi: bool) -> bool:
    if name.lower() in DN_ATTRIBUTES:
        before, after = tuple(map(norm_dn, before)), tuple(map(norm_dn, after))
    return set(before) == set(after) if multi else before == after
