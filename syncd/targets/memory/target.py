"""The `Target` of a memory service: objects known by the ids the service gives them."""

from __future__ import annotations

from collections.abc import Iterable

from syncd.errors import ObjectRejected
from syncd.objects import Attrs, Capabilities, Entry, Values
from syncd.plan.model import Action, AttrChange, Change
from syncd.targets.memory.config import MemoryTargetConfig
from syncd.targets.memory.service import REFERENCES, MemoryService, service_named

# As a SCIM service: no containers, no moves (an id is for life), members by id.
CAPABILITIES = Capabilities(references=REFERENCES, references_must_exist=True)


class MemoryTarget:
    capabilities = CAPABILITIES
    locator_name = "id"

    def __init__(self, config: MemoryTargetConfig) -> None:
        self.name = config.name
        self._file = config.path
        self._service = MemoryService(config.path) if config.path else service_named(config.name)

    def read(self, attributes: Iterable[str]) -> list[Entry]:
        names = {name.lower(): name for name in attributes}
        return [Entry(o.id, {names.get(k.lower(), k): v for k, v in o.attrs.items()}, o.id,
                      kind=o.kind) for o in self._service.objects()]

    def apply(self, change: Change) -> str | None:
        try:
            if change.action is Action.CREATE:
                return self._service.create(change.kind, {a.name: _texts(a.after)
                                                          for a in change.attributes})
            assert change.locator is not None, "a change to an object has its id"
            if change.action is Action.DELETE:
                self._service.delete(change.locator)
            else:
                self._service.modify(change.locator, *_deltas(change.attributes))
        except ObjectRejected as exc:
            raise ObjectRejected(f"{change.label}: {exc}") from None
        return None

    def marker(self) -> str | None:
        """The service's version, in a process (a file kept between runs has none)."""
        return None if self._file else f"{self._service.instance}:{self._service.version}"

    def close(self) -> None:
        """Nothing to let go of: the service outlives its targets."""


def _deltas(changes: list[AttrChange]) -> tuple[Attrs, Attrs, Attrs]:
    replace: Attrs = {}
    add: Attrs = {}
    remove: Attrs = {}
    for change in changes:
        if change.multi:
            add[change.name], remove[change.name] = _texts(change.add), _texts(change.remove)
        else:
            replace[change.name] = _texts(change.after)
    return replace, add, remove


def _texts(values: Values) -> tuple[str, ...]:
    assert all(isinstance(v, str) for v in values), "a change reached the target unresolved"
    return tuple(str(v) for v in values)
