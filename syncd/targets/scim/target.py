"""The `Target` of a SCIM 2.0 service provider: Users and Groups known by the ids it
gives them, attributes addressed by SCIM paths, members and the Enterprise manager by id.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from syncd.errors import ConfigError, ObjectRejected, Problem
from syncd.objects import GROUP, USER, Capabilities, Entry
from syncd.plan.model import Action, Change
from syncd.targets.scim.client import Json, ScimClient
from syncd.targets.scim.config import ScimTarget
from syncd.targets.scim.paths import REFERENCES, crowded, get_key, parse_path
from syncd.targets.scim.payload import document, operations, replaced, texts
from syncd.targets.scim.schema import ProviderSchema

log = logging.getLogger("syncd.targets.scim")

# No containers, no moves (an id is for life); members and the manager name other
# resources by id, and a provider refuses an id it does not hold.
CAPABILITIES = Capabilities(references=REFERENCES, references_must_exist=True)
_UNIQUE = {USER: "userName", GROUP: "displayName"}


class ScimService:
    capabilities = CAPABILITIES
    locator_name = "id"

    def __init__(self, config: ScimTarget) -> None:
        self.name = config.name
        self.client = ScimClient(config)
        self.schema: ProviderSchema | None = None
        self.found: dict[str, dict[str, tuple[str, ...]]] = {}  # id -> values as read
        self.crowded: dict[str, dict[str, list[Any]]] = {}  # id -> see paths.crowded

    def read(self, attributes: Iterable[str]) -> list[Entry]:
        """Every User and Group, with the values at the mapping's paths. The paths are
        checked against the provider's own schema first: one it does not have stops the
        cycle here, before anything is written."""
        self.schema = schema = self.client.discover()
        names = sorted(set(attributes))
        paths = {kind: [n for n in names if schema.of(kind).problem(n) is None]
                 for kind in (USER, GROUP)}
        if unknown := [n for n in names if not any(n in p for p in paths.values())]:
            raise ConfigError([Problem(self.client.where, None, name,
                                       f"{schema.users.problem(name)} ({schema.source})")
                               for name in unknown])
        entries = []
        self.found, self.crowded = {}, {}
        for kind in (USER, GROUP):
            parsed = [parse_path(n) for n in paths[kind]]
            for resource in self.client.resources(kind):
                object_id = str(resource.get("id"))
                if kind == GROUP:
                    resource = self._with_members(resource, object_id, paths[kind])
                attrs = {n: values for n in paths[kind]
                         if (values := parse_path(n).read(resource))}
                self.found[object_id] = attrs
                if many := crowded(resource, parsed):
                    self.crowded[object_id] = many
                entries.append(Entry(object_id, attrs, object_id, kind=kind))
        return entries

    def _with_members(self, group: Json, object_id: str, names: list[str]) -> Json:
        """A group as listed, with its members asked for where the list left them out
        (some providers do; an empty group's members are never listed): a group read
        without its members would never lose one."""
        wanted = [n for n in names if parse_path(n).attribute.lower() == "members"]
        if not wanted or get_key(group, "members") is not None:
            return group
        found = self.client.get(GROUP, object_id, ["members"])
        return {**group, "members": get_key(found, "members") or []}

    def apply(self, change: Change) -> str | None:
        try:
            return self._apply(change)
        except ObjectRejected as exc:
            raise ObjectRejected(f"{change.label}: {exc}{self._holder(change, exc)}") from None

    def _apply(self, change: Change) -> str | None:
        assert self.schema is not None, "a plan is applied after the target was read"
        schema = self.schema.of(change.kind)
        if change.action is Action.CREATE:
            attrs = {a.name: texts(a.after) for a in change.attributes}
            return self.client.create(change.kind, document(schema, attrs))
        assert change.locator is not None, "a change to an existing resource has its id"
        if change.action is Action.DELETE:
            self.client.delete(change.kind, change.locator)
        elif self.client.patch:
            if ops := operations(schema, change.attributes, self.found.get(change.locator),
                                 self.crowded.get(change.locator)):
                self.client.modify(change.kind, change.locator, ops)
        else:  # the provider has no PATCH: the whole resource, as read now, changed
            found = self.client.get(change.kind, change.locator)
            self.client.replace(change.kind, change.locator,
                                replaced(schema, found, change.attributes))
        return None

    def _holder(self, change: Change, exc: ObjectRejected) -> str:
        """For a name the provider says is taken: who holds it, where it can tell."""
        if change.action is not Action.CREATE or "uniqueness" not in str(exc):
            return ""
        attribute = _UNIQUE[change.kind]
        value = next((a.after[0] for a in change.attributes
                      if a.name.lower() == attribute.lower() and a.after), None)
        holder = self.client.holder(change.kind, attribute, str(value)) if value else None
        return f" ({attribute} {value!r} is held by {holder})" if holder else ""

    def marker(self) -> None:
        """SCIM keeps no token for "anything changed": every cycle reads it all."""
        return None

    def close(self) -> None:
        self.client.close()

