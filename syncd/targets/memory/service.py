"""An identity service held in memory: what a SCIM service provider is, without HTTP.

It behaves as such services do, which is what makes it a target of its own and not a
mock: it gives every object an id on create, keeps users' and groups' names unique,
refuses a reference to an id it does not hold and a mail address that is none, and
drops a deleted object from every group that named it. The conformance suite runs the
same scenarios against it in-process as against a real slapd.
"""

from __future__ import annotations

import json
import os
import re
import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from syncd.errors import ObjectRejected, TargetUnavailable
from syncd.objects import Attrs, get_attr

UNIQUE = {"user": "userName", "group": "displayName"}  # what no two objects of a kind share
REFERENCES = frozenset({"members", "manager"})  # values that are ids of other objects
_MAIL = re.compile(r"^[\x21-\x3f\x41-\x7e]+@[\x21-\x3f\x41-\x7e]+$")  # ASCII, one @
SYNTAX = {"mail": _MAIL, "emails": _MAIL}


@dataclass
class Stored:
    id: str
    kind: str
    attrs: Attrs = field(default_factory=dict)


class MemoryService:
    """The objects of one service, by id; every method is one atomic operation."""

    def __init__(self, file: Path | None = None) -> None:
        self._objects: dict[str, Stored] = {}
        self._lock = threading.Lock()
        self.version = 0  # moved by every change: the target's marker, with
        self.instance = uuid.uuid4().hex  # which service it counts (never one before it)
        self._file = file
        if file is not None and file.exists():
            self._load(file)

    def objects(self) -> list[Stored]:
        with self._lock:
            return [Stored(o.id, o.kind, dict(o.attrs)) for o in self._objects.values()]

    def create(self, kind: str, attrs: Attrs) -> str:
        with self._lock:
            if kind not in UNIQUE:
                raise ObjectRejected(f"this service holds users and groups, not {kind}s")
            attrs = {name: values for name, values in attrs.items() if values}
            self._check(kind, attrs, None)
            new = Stored(str(uuid.uuid4()), kind, attrs)
            self._objects[new.id] = new
            self._save()
            return new.id

    def modify(self, object_id: str, replace: Attrs, add: Attrs, remove: Attrs) -> None:
        """`replace` sets whole attributes (an empty tuple removes one); `add` and
        `remove` change values of multi-valued ones."""
        with self._lock:
            stored = self._get(object_id)
            attrs = dict(stored.attrs)
            for name, values in replace.items():
                attrs = _without(attrs, name) | ({name: values} if values else {})
            for name, values in add.items():
                held = get_attr(attrs, name)
                attrs = _without(attrs, name) | {name: (*held, *(v for v in values
                                                                  if v not in held))}
            for name, values in remove.items():
                kept = tuple(v for v in get_attr(attrs, name) if v not in values)
                attrs = _without(attrs, name) | ({name: kept} if kept else {})
            self._check(stored.kind, attrs, object_id)
            stored.attrs = attrs
            self._save()

    def delete(self, object_id: str) -> None:
        with self._lock:
            self._get(object_id)
            del self._objects[object_id]
            for other in self._objects.values():  # as SCIM services do: no dangling member
                for name in REFERENCES:
                    values = get_attr(other.attrs, name)
                    if object_id in values:
                        kept = tuple(v for v in values if v != object_id)
                        other.attrs = _without(other.attrs, name) | ({name: kept} if kept else {})
            self._save()

    # -- checks ----------------------------------------------------------------------

    def _get(self, object_id: str) -> Stored:
        if object_id not in self._objects:
            raise ObjectRejected(f"no object with id {object_id}")
        return self._objects[object_id]

    def _check(self, kind: str, attrs: Attrs, object_id: str | None) -> None:
        unique = UNIQUE[kind]
        name = get_attr(attrs, unique)
        if not name:
            raise ObjectRejected(f"{unique} is required")
        for other in self._objects.values():
            if other.id != object_id and other.kind == kind and \
                    {v.lower() for v in get_attr(other.attrs, unique)} & {v.lower() for v in name}:
                raise ObjectRejected(f"{unique} {name[0]!r} is taken (by {other.id})")
        for attribute, values in attrs.items():
            if attribute.lower() in REFERENCES:
                missing = [v for v in values if v not in self._objects]
                if missing:
                    raise ObjectRejected(f"{attribute}: no object with id {missing[0]}")
            syntax = SYNTAX.get(attribute.lower())
            if syntax and (bad := [v for v in values if not syntax.match(v)]):
                raise ObjectRejected(f"{attribute}: invalid value {bad[0]!r}")

    # -- the file a service may be kept in -------------------------------------------

    def _save(self) -> None:
        """Written whole after every operation, to a new file renamed over the old: a
        process killed mid-write leaves the last state, never half of one."""
        self.version += 1
        if self._file is None:
            return
        data = [{"id": o.id, "kind": o.kind, "attrs": {k: list(v) for k, v in o.attrs.items()}}
                for o in self._objects.values()]
        partial = self._file.with_name(self._file.name + ".partial")
        try:
            fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(data, out, ensure_ascii=False)
            os.replace(partial, self._file)
        except OSError as exc:
            raise TargetUnavailable(f"{self._file}: cannot write: {exc.strerror}") from exc

    def _load(self, file: Path) -> None:
        try:
            data = json.loads(file.read_text(encoding="utf-8"))
            for item in data:
                attrs = {k: tuple(v) for k, v in item["attrs"].items()}
                self._objects[item["id"]] = Stored(item["id"], item["kind"], attrs)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise TargetUnavailable(f"{file}: not a memory target's file: {exc}") from exc


def _without(attrs: Mapping[str, tuple[str, ...]], name: str) -> Attrs:
    return {k: v for k, v in attrs.items() if k.lower() != name.lower()}


_SERVICES: dict[str, MemoryService] = {}
_SERVICES_LOCK = threading.Lock()


def service_named(name: str) -> MemoryService:
    """The process's service of that name: a memory target with no file keeps its
    objects as long as the process runs (a daemon, a test)."""
    with _SERVICES_LOCK:
        return _SERVICES.setdefault(name, MemoryService())


def forget_services() -> None:
    """Drop every in-process service (tests start from an empty one)."""
    with _SERVICES_LOCK:
        _SERVICES.clear()
