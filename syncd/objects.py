"""Neutral values passed between mapping, plan and targets: directory entries.

An attribute maps to a tuple of strings, always, so that single- and multi-valued
attributes compare the same way; names keep the spelling the mapping gave them and are
compared without case, as LDAP does.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache

Attrs = dict[str, tuple[str, ...]]

USER = "user"
GROUP = "group"
OU = "ou"
KINDS = (OU, USER, GROUP)  # the order creations are applied in

# The life of an object syncd owns (registry state; for users also the wanted state).
PENDING = "pending"  # reserved in the registry, not yet seen in the target
ACTIVE = "active"
DISABLED = "disabled"
DELETED = "deleted"  # users only: the row stays so the username is never given again


@dataclass
class Owned:
    """A registry row: an object syncd created or adopted in a target. The store keeps
    them, the mapping reads users' usernames and states, the planner knows ours by them."""

    target: str
    kind: str
    key: str
    dn: str
    username: str | None = None
    anchor: str | None = None  # the target's own id: entryUUID, objectGUID
    state: str = PENDING
    disabled_on: date | None = None


@dataclass(frozen=True)
class Entry:
    """An entry read from a target. `anchor` is the target's own id (entryUUID,
    objectGUID, SCIM id) where it has one."""

    dn: str
    attrs: Attrs
    anchor: str | None = None

    def get(self, name: str) -> tuple[str, ...]:
        return get_attr(self.attrs, name)

    def first(self, name: str) -> str | None:
        values = self.get(name)
        return values[0] if values else None


@dataclass
class Wanted:
    """One object the mapping says should exist (or, for a user, be disabled or gone).

    `key` ties it to the org: the person id for a user, ``rule:key`` for a group, the
    normalised DN for an OU. `attrs` are compared and kept in step; `create_only` are
    written once, when the object is created. `why`, `rule` and `source` are carried
    into the plan and the audit.
    """

    kind: str
    key: str
    dn: str
    attrs: Attrs
    create_only: Attrs = field(default_factory=dict)
    state: str = ACTIVE  # users: ACTIVE, DISABLED or DELETED
    why: str = ""
    rule: str = ""
    source: str = ""
    username: str | None = None
    adopt_dn: str | None = None  # a pre-existing entry a correlation rule adopts
    multi: frozenset[str] = frozenset()  # attributes compared as sets, changed by delta
    sensitive: frozenset[str] = frozenset()  # values never shown


def get_attr(attrs: Mapping[str, tuple[str, ...]], name: str) -> tuple[str, ...]:
    """Case-insensitive attribute lookup."""
    if name in attrs:
        return attrs[name]
    lowered = name.lower()
    for key, values in attrs.items():
        if key.lower() == lowered:
            return values
    return ()


@lru_cache(maxsize=1 << 17)
def norm_dn(dn: str) -> str:
    """A DN for comparison: RDNs trimmed and lower-cased (enough for the DNs syncd writes)."""
    return ",".join(part.strip().lower() for part in split_dn(dn))


def split_dn(dn: str) -> list[str]:
    """Split a DN into RDN strings, honouring backslash escapes."""
    parts, current, escaped = [], [], False
    for char in dn:
        if escaped:
            current.append(char)
            escaped = False
        elif char == "\\":
            current.append(char)
            escaped = True
        elif char == ",":
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return [p for p in parts if p.strip()]


def parent_dn(dn: str) -> str:
    return ",".join(split_dn(dn)[1:])


def rdn(dn: str) -> str:
    return split_dn(dn)[0]


def values(items: Iterable[str] | str | None) -> tuple[str, ...]:
    """A rendered value as an attribute tuple: None and "" mean absent."""
    if items is None:
        return ()
    if isinstance(items, str):
        return (items,) if items != "" else ()
    return tuple(v for v in items if v not in (None, ""))
