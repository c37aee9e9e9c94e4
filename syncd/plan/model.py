"""The plan is data: a list of changes that can be printed, serialised, guarded, applied
and counted. Nothing here talks to a directory."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Any

from syncd.errors import Problem
from syncd.objects import norm_dn

FORMAT_VERSION = "1.0"


class Action(Enum):
    """Each action's plan symbol and word live together; renderer and metrics read both."""

    CREATE = ("+", "create")
    UPDATE = ("~", "update")
    MOVE = (">", "move")
    ENABLE = ("^", "enable")
    DISABLE = ("x", "disable")
    DELETE = ("-", "delete")

    @property
    def symbol(self) -> str:
        return self.value[0]

    @property
    def word(self) -> str:
        return self.value[1]

    @property
    def destructive(self) -> bool:
        return self in (Action.DISABLE, Action.DELETE)


@dataclass(frozen=True)
class AttrChange:
    """One attribute's before and after. For multi-valued attributes `add`/`remove` hold
    the delta, applied as such (never a whole-list replace of a 5,000-member group)."""

    name: str
    before: tuple[str, ...]
    after: tuple[str, ...]
    multi: bool = False
    sensitive: bool = False

    @property
    def changed(self) -> bool:
        """Multi-valued attributes are sets: a reordering is no change."""
        if self.multi:
            return set(self.before) != set(self.after)
        return self.before != self.after

    @property
    def add(self) -> tuple[str, ...]:
        return tuple(v for v in self.after if v not in self.before)

    @property
    def remove(self) -> tuple[str, ...]:
        return tuple(v for v in self.before if v not in self.after)

    def as_dict(self) -> dict[str, Any]:
        hidden = "(sensitive)"
        data: dict[str, Any] = {
            "name": self.name,
            "before": hidden if self.sensitive and self.before else list(self.before),
            "after": hidden if self.sensitive and self.after else list(self.after),
        }
        if self.multi:
            data["add"], data["remove"] = (
                (hidden, hidden) if self.sensitive else (list(self.add), list(self.remove)))
        return data


@dataclass
class Change:
    action: Action
    kind: str  # user | group | ou
    key: str  # person id, group key or OU DN
    dn: str
    new_dn: str | None = None
    attributes: list[AttrChange] = field(default_factory=list)
    why: str = ""
    rule: str = ""
    source: str = ""
    username: str | None = None

    def as_if_refused(self, refused: dict[str, str | None]) -> Change:
        """This change as the server left things: `refused` maps the normalised DN a
        refused change would have given an entry to where the entry still is (None: a
        refused create, no entry at all). A group then neither names an entry that does
        not exist nor drops a member whose move did not happen."""
        attributes = [replace(a, after=_still(a.after, refused)) if a.multi else a
                      for a in self.attributes]
        kept = [a for a in attributes if a.changed or self.action is Action.CREATE]
        return replace(self, attributes=kept)

    def as_dict(self) -> dict[str, Any]:
        return {
            "action": self.action.word,
            "kind": self.kind,
            "anchor": self.key,
            "dn": self.dn,
            "new_dn": self.new_dn,
            "why": self.why,
            "rule": self.rule,
            "source": self.source,
            "attributes": [a.as_dict() for a in self.attributes],
        }


@dataclass(frozen=True)
class GuardResult:
    name: str
    value: float
    limit: float
    tripped: bool
    detail: str = ""  # what the value is made of ("telephoneNumber: 244 of 897 users")

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "value": self.value, "limit": self.limit,
                "tripped": self.tripped, "detail": self.detail}


@dataclass
class Plan:
    target: str
    flavour: str
    base_dn: str
    as_of: str
    changes: list[Change] = field(default_factory=list)
    desired: dict[str, int] = field(default_factory=dict)  # kind -> count
    managed: int = 0
    managed_by_kind: dict[str, int] = field(default_factory=dict)
    memberships: int = 0  # our users' memberships in our groups, as found
    foreign: int = 0
    guards: list[GuardResult] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # objects the mapping could not render
    problems: list[Problem] = field(default_factory=list)  # the mapping's, among `errors`
    notices: list[str] = field(default_factory=list)  # worth saying, nothing wrong
    errors_by_kind: dict[str, int] = field(default_factory=dict)

    def count(self, action: Action) -> int:
        return sum(1 for change in self.changes if change.action is action)

    def summary(self) -> dict[str, int]:
        return {action.word: self.count(action) for action in Action}

    @property
    def destructive(self) -> list[Change]:
        return [change for change in self.changes if change.action.destructive]

    @property
    def tripped(self) -> list[GuardResult]:
        return [guard for guard in self.guards if guard.tripped]

    def as_dict(self) -> dict[str, Any]:
        return {
            "format_version": FORMAT_VERSION,
            "target": self.target,
            "flavour": self.flavour,
            "base_dn": self.base_dn,
            "as_of": self.as_of,
            "desired": self.desired,
            "managed": self.managed,
            "foreign": self.foreign,
            "changes": [change.as_dict() for change in self.changes],
            "summary": self.summary(),
            "guards": [guard.as_dict() for guard in self.guards],
            "errors": self.errors,
            "notices": self.notices,
        }


def _still(values: tuple[str, ...], refused: dict[str, str | None]) -> tuple[str, ...]:
    out = []
    for value in values:
        key = norm_dn(value)
        if key not in refused:
            out.append(value)
        elif (where := refused[key]) is not None:
            out.append(where)
    return tuple(out)
