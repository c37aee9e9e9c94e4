"""The plan is data: a list of changes that can be printed, serialised, guarded, applied
and counted. Nothing here talks to a directory."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from syncd.errors import Problem
from syncd.objects import Values

# 2.0: objects are known by (kind, key); `locator`/`new_locator` say where (a DN, an id),
# and where the locator is a DN `dn`/`new_dn` say so as in 1.0.
FORMAT_VERSION = "2.0"


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
    before: Values
    after: Values
    multi: bool = False
    sensitive: bool = False

    @property
    def changed(self) -> bool:
        """Multi-valued attributes are sets: a reordering is no change."""
        if self.multi:
            return set(self.before) != set(self.after)
        return self.before != self.after

    @property
    def add(self) -> Values:
        return tuple(v for v in self.after if v not in self.before)

    @property
    def remove(self) -> Values:
        return tuple(v for v in self.before if v not in self.after)

    def as_dict(self) -> dict[str, Any]:
        hidden = "(sensitive)"
        data: dict[str, Any] = {
            "name": self.name,
            "before": hidden if self.sensitive and self.before else _shown(self.before),
            "after": hidden if self.sensitive and self.after else _shown(self.after),
        }
        if self.multi:
            data["add"], data["remove"] = (
                (hidden, hidden) if self.sensitive else (_shown(self.add), _shown(self.remove)))
        return data


@dataclass
class Change:
    """One object's change. It is the object (kind, key) that changes; `locator` is
    where it is now (None: a create where the target assigns it), `new_locator` where a
    move takes it."""

    action: Action
    kind: str  # user | group | ou
    key: str  # person id, group key or OU DN
    locator: str | None
    new_locator: str | None = None
    attributes: list[AttrChange] = field(default_factory=list)
    why: str = ""
    rule: str = ""
    source: str = ""
    username: str | None = None
    adopts: bool = False  # takes over an entry syncd did not make (a correlation rule)

    @property
    def label(self) -> str:
        """How a log line names the object: where it is, else what it is."""
        return self.new_locator or self.locator or f"{self.kind} {self.username or self.key}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "action": self.action.word,
            "kind": self.kind,
            "key": self.key,
            "anchor": self.key,
            "locator": self.locator,
            "new_locator": self.new_locator,
            "username": self.username,
            "adopts": self.adopts,
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
    """`header` is what the target says of itself (`flavour`, and for LDAP `base_dn`);
    `locator_name` what its locators are ("dn", "id")."""

    target: str
    header: dict[str, str]
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
    locator_name: str = "dn"

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

    def _change_dict(self, change: Change) -> dict[str, Any]:
        data = change.as_dict()
        if self.locator_name == "dn":
            data["dn"], data["new_dn"] = change.locator, change.new_locator
        return data

    def as_dict(self) -> dict[str, Any]:
        return {
            "format_version": FORMAT_VERSION,
            "target": self.target,
            **self.header,
            "locator_name": self.locator_name,
            "as_of": self.as_of,
            "desired": self.desired,
            "managed": self.managed,
            "foreign": self.foreign,
            "changes": [self._change_dict(change) for change in self.changes],
            "adoptions": [self._change_dict(change) for change in self.changes
                          if change.adopts],
            "summary": self.summary(),
            "guards": [guard.as_dict() for guard in self.guards],
            "errors": self.errors,
            "notices": self.notices,
        }


def _shown(values: Values) -> list[str]:
    return [str(value) for value in values]

