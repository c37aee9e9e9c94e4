"""Wanted against found: the changes that make a target match the mapping.

Only objects syncd owns (its registry names them) or that a correlation rule adopts are
ever changed; everything else in the directory is counted as foreign and left alone.
Group membership is diffed as a set and only ever touches entries of our own users:
a service account someone added to a unit group by hand stays there.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from syncd.objects import GROUP, OU, USER, Entry, Wanted, norm_dn, parent_dn
from syncd.plan.model import Action, AttrChange, Change

# Attributes whose values are DNs: compared without case or spacing differences.
DN_ATTRIBUTES = frozenset({"member", "uniquemember", "manager", "owner", "seealso", "secretary"})


@dataclass(frozen=True)
class Owned:
    """A registry row: what syncd created or adopted in this target, and where it was."""

    dn: str
    state: str  # pending | active | disabled | deleted


@dataclass
class Diff:
    changes: list[Change] = field(default_factory=list)
    in_sync: list[tuple[Wanted, Entry]] = field(default_factory=list)  # ours, nothing to do
    problems: list[str] = field(default_factory=list)
    managed: int = 0
    foreign: int = 0


def diff(wanted: list[Wanted], found: list[Entry], owned: dict[tuple[str, str], Owned], *,
         anchor: str, frozen: set[str]) -> Diff:
    return _Differ(wanted, found, owned, anchor, frozen).run()


class _Differ:
    def __init__(self, wanted: list[Wanted], found: list[Entry],
                 owned: dict[tuple[str, str], Owned], anchor: str, frozen: set[str]):
        self.wanted, self.owned, self.anchor, self.frozen = wanted, owned, anchor, frozen
        self.by_dn = {norm_dn(entry.dn): entry for entry in found}
        self.by_anchor: dict[str, list[Entry]] = defaultdict(list)
        for entry in found:
            for value in entry.get(anchor):
                self.by_anchor[value].append(entry)
        self.out = Diff()

    def run(self) -> Diff:
        current = {id(w): self._current(w) for w in self.wanted}
        registered = (self.by_dn.get(norm_dn(own.dn)) for own in self.owned.values())
        ours = {norm_dn(e.dn) for e in [*current.values(), *registered] if e is not None}
        kept = {norm_dn(e.dn) for person in self.frozen for e in self.by_anchor.get(person, ())}
        self.removable = ours - kept
        for w in self.wanted:
            self._compare(w, current[id(w)])
        self._orphans({(w.kind, w.key) for w in self.wanted})
        self.out.managed = len(ours)
        self.out.foreign = len(self.by_dn) - len(ours)
        return self.out

    def _current(self, w: Wanted) -> Entry | None:
        """The entry that is this object now: registered, else adopted, else none."""
        own = self.owned.get((w.kind, w.key))
        if w.kind == USER:
            if own and own.state != "deleted":
                return self._anchored(w.key, own.dn, w.dn)
            return self.by_dn.get(norm_dn(w.adopt_dn)) if w.adopt_dn else None
        if w.kind == GROUP:
            return self.by_dn.get(norm_dn(own.dn)) if own else None
        return self.by_dn.get(norm_dn(w.dn))  # an OU that exists, ours or not, is enough

    def _anchored(self, person_id: str, *dns: str) -> Entry | None:
        """Our user's entry, found by its anchor wherever someone may have moved it."""
        candidates = self.by_anchor.get(person_id, [])
        for dn in dns:
            for entry in candidates:
                if norm_dn(entry.dn) == norm_dn(dn):
                    return entry
        return candidates[0] if len(candidates) == 1 else None

    def _compare(self, w: Wanted, cur: Entry | None) -> None:
        if w.state == "deleted":
            if cur is not None:
                self._add(Action.DELETE, w, cur.dn)
            return
        if cur is None:
            if w.state == "active":
                self._create(w)
            return
        if w.kind == OU:
            return
        new_dn = w.dn if norm_dn(cur.dn) != norm_dn(w.dn) else None
        if new_dn and norm_dn(new_dn) in self.by_dn:
            self.out.problems.append(f"{w.kind} {w.key}: cannot move {cur.dn} to {new_dn}: "
                                     "an entry syncd does not own is there; left alone")
            return
        changes = self._attributes(w, cur)
        if not new_dn and not changes:
            self.out.in_sync.append((w, cur))
            return
        self._add(self._action(w, new_dn), w, cur.dn, new_dn, changes)

    def _action(self, w: Wanted, new_dn: str | None) -> Action:
        own = self.owned.get((w.kind, w.key))
        if w.state == "disabled":
            return Action.DISABLE
        if own and own.state == "disabled":
            return Action.ENABLE
        return Action.MOVE if new_dn else Action.UPDATE

    def _create(self, w: Wanted) -> None:
        if norm_dn(w.dn) in self.by_dn:
            self.out.problems.append(f"{w.kind} {w.key}: {w.dn} is held by an entry syncd "
                                     "does not own and no correlation rule adopts; left alone")
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
            multi = name in w.multi
            if multi and name.lower() in DN_ATTRIBUTES:
                after = self._members(before, after)
            if _same(name, before, after, multi):
                continue
            changes.append(AttrChange(name, before, after, multi=multi,
                                      sensitive=name in w.sensitive))
        return changes

    def _members(self, before: tuple[str, ...], after: tuple[str, ...]) -> tuple[str, ...]:
        """Wanted members plus every current member that is not one of our users."""
        keep = tuple(dn for dn in before if norm_dn(dn) not in self.removable)
        wanted = {norm_dn(dn) for dn in after}
        return tuple(sorted({*after, *(dn for dn in keep if norm_dn(dn) not in wanted)}))

    def _orphans(self, wanted_keys: set[tuple[str, str]]) -> None:
        """Groups and OUs we own that nothing wants any more (OUs only when empty)."""
        deleting: set[str] = set()
        orphans = [(kind, key, own) for (kind, key), own in self.owned.items()
                   if kind in (GROUP, OU) and (kind, key) not in wanted_keys]
        for kind, key, own in sorted(orphans, key=lambda o: -o[2].dn.count(",")):
            entry = self.by_dn.get(norm_dn(own.dn))
            if entry is None:
                continue
            if kind == OU and self._has_children(entry.dn, deleting):
                continue
            deleting.add(norm_dn(entry.dn))
            why = "no members left" if kind == GROUP else "no longer wanted and empty"
            self.out.changes.append(Change(Action.DELETE, kind, key, entry.dn, why=why,
                                           rule="orphans"))

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


def _same(name: str, before: tuple[str, ...], after: tuple[str, ...], multi: bool) -> bool:
    if name.lower() in DN_ATTRIBUTES:
        before, after = tuple(map(norm_dn, before)), tuple(map(norm_dn, after))
    return set(before) == set(after) if multi else before == after
