"""The one small interface every target plugin implements."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

from syncd.objects import Capabilities, Entry
from syncd.plan.model import Change


class Target(Protocol):
    """A directory or service syncd writes to.

    `read` returns every object below the target's base with the named attributes
    (plus objectClass where it has one), so that the planner can tell ours from foreign
    and check usernames against the whole directory. `apply` carries out one change,
    every reference in it already resolved to text (`syncd.plan.resolve`), and returns
    the target's own id for a created object (entryUUID, objectGUID, SCIM id) where it
    has one. `capabilities` say what the planner may ask of it (containers, moves,
    reference attributes, how locators compare); `locator_name` what its locators are
    ("dn", "id"). Library exceptions never escape: TargetUnavailable when the server
    cannot be used at all, ObjectRejected when it refused this one change.
    """

    name: str
    capabilities: Capabilities
    locator_name: str

    def read(self, attributes: Iterable[str]) -> list[Entry]: ...

    def apply(self, change: Change) -> str | None: ...

    def marker(self) -> str | None:
        """A token that any change in the target moves (OpenLDAP's contextCSN, AD's
        highestCommittedUSN), read in a round trip: a cycle with the store, the config
        and the day as last time, and this unchanged, has nothing to do. None where the
        target keeps none: every cycle is then a full one."""
        ...

    def close(self) -> None: ...


@dataclass
class AttributeCheck:
    """What a target type says of the attributes a mapping names, before any cycle: why
    it cannot hold one (by kind and name), and what it checked them against."""

    problems: dict[tuple[str, str], str] = field(default_factory=dict)
    against: str = ""
