"""The kinds of org record (docs/snapshot.md), shared by sources, store and mapping.

Each kind is one frozen dataclass; the metadata on its fields (type, required, which
kind an id refers to) is the single schema that the store checks snapshots against and
that CSV/HTTP field mappings are checked against. This module imports nothing from
syncd so that every stage can depend on it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date
from enum import Enum
from functools import cache
from typing import Any


class FieldType(Enum):
    TEXT = "text"
    DATE = "date"
    BOOL = "true/false"
    TEXT_LIST = "list of text"
    MAPPING = "mapping"


@dataclass(frozen=True)
class FieldSpec:
    name: str
    type: FieldType
    required: bool
    refers_to: tuple[str, ...]  # kinds whose ids this field must name
    choices: tuple[str, ...]
    default: Any

    def choice_problem(self, value: Any) -> str | None:
        """What is wrong with `value` for a field of fixed choices, if anything."""
        if not self.choices or value in self.choices:
            return None
        return f"{value!r} is not one of {', '.join(self.choices)}"


def _field(
    type: FieldType = FieldType.TEXT,
    *,
    required: bool = False,
    refers_to: tuple[str, ...] = (),
    choices: tuple[str, ...] = (),
    default: Any = None,
) -> Any:
    spec = {"type": type, "required": required, "refers_to": refers_to, "choices": choices}
    return dataclasses.field(default=default, metadata=spec)


def _id() -> Any:
    return _field(required=True)


def _date() -> Any:
    return _field(FieldType.DATE)


def _extra() -> Any:
    """Site-specific values a source carries along (CPR, cost centre); templates see them."""
    return _field(FieldType.MAPPING)


PERSON = ("persons",)
UNIT = ("units",)
IT_SYSTEM = ("it_systems",)


@dataclass(frozen=True, slots=True)
class Dated:
    """Validity: `valid_to` is the last valid day, inclusive; None is open."""

    def active_on(self, day: date) -> bool:
        start, end = self.valid_from, self.valid_to  # type: ignore[attr-defined]
        return (start is None or start <= day) and (end is None or day <= end)


@dataclass(frozen=True, slots=True)
class Unit(Dated):
    id: str = _id()
    name: str = _field(required=True)
    parent: str | None = _field(refers_to=UNIT)
    unit_type: str | None = _field()
    valid_from: date | None = _date()
    valid_to: date | None = _date()
    extra: dict[str, Any] | None = _extra()


@dataclass(frozen=True, slots=True)
class Person:
    id: str = _id()
    given_name: str = _field(required=True)
    surname: str = _field(required=True)
    nickname: str | None = _field()
    extra: dict[str, Any] | None = _extra()

    @property
    def name(self) -> str:
        return f"{self.given_name} {self.surname}"


@dataclass(frozen=True, slots=True)
class Engagement(Dated):
    id: str = _id()
    person: str = _field(required=True, refers_to=PERSON)
    unit: str = _field(required=True, refers_to=UNIT)
    job_function: str | None = _field()
    engagement_type: str | None = _field()
    primary: bool = _field(FieldType.BOOL, default=False)
    valid_from: date | None = _date()
    valid_to: date | None = _date()
    extra: dict[str, Any] | None = _extra()


@dataclass(frozen=True, slots=True)
class Association(Dated):
    id: str = _id()
    person: str = _field(required=True, refers_to=PERSON)
    unit: str = _field(required=True, refers_to=UNIT)
    association_type: str | None = _field()
    valid_from: date | None = _date()
    valid_to: date | None = _date()
    extra: dict[str, Any] | None = _extra()


@dataclass(frozen=True, slots=True)
class Manager(Dated):
    id: str = _id()
    person: str | None = _field(refers_to=PERSON)  # None: a vacant manager post
    unit: str = _field(required=True, refers_to=UNIT)
    manager_type: str | None = _field()
    responsibilities: list[str] | None = _field(FieldType.TEXT_LIST)
    valid_from: date | None = _date()
    valid_to: date | None = _date()
    extra: dict[str, Any] | None = _extra()


@dataclass(frozen=True, slots=True)
class Address(Dated):
    id: str = _id()
    owner: str = _field(required=True, refers_to=("persons", "units"))
    type: str = _field(required=True)
    value: str = _field(required=True)
    visibility: str = _field(choices=("public", "internal", "secret"), default="internal")
    valid_from: date | None = _date()
    valid_to: date | None = _date()
    extra: dict[str, Any] | None = _extra()


@dataclass(frozen=True, slots=True)
class Leave(Dated):
    id: str = _id()
    person: str = _field(required=True, refers_to=PERSON)
    leave_type: str | None = _field()
    valid_from: date | None = _date()
    valid_to: date | None = _date()
    extra: dict[str, Any] | None = _extra()


@dataclass(frozen=True, slots=True)
class Role(Dated):
    id: str = _id()
    person: str = _field(required=True, refers_to=PERSON)
    unit: str | None = _field(refers_to=UNIT)
    role_type: str = _field(required=True)
    valid_from: date | None = _date()
    valid_to: date | None = _date()
    extra: dict[str, Any] | None = _extra()


@dataclass(frozen=True, slots=True)
class ItSystem:
    id: str = _id()
    name: str = _field(required=True)
    extra: dict[str, Any] | None = _extra()


@dataclass(frozen=True, slots=True)
class ItUser(Dated):
    """A person's account in an IT system syncd does not manage (or manages elsewhere):
    mappings read them, `syncd show person` lists them beside syncd's own."""

    id: str = _id()
    person: str = _field(required=True, refers_to=PERSON)
    it_system: str = _field(required=True, refers_to=IT_SYSTEM)
    username: str = _field(required=True)
    external_id: str | None = _field()  # the system's own id for the account
    valid_from: date | None = _date()
    valid_to: date | None = _date()
    extra: dict[str, Any] | None = _extra()


KINDS: dict[str, type] = {
    "units": Unit,
    "persons": Person,
    "engagements": Engagement,
    "associations": Association,
    "managers": Manager,
    "addresses": Address,
    "leaves": Leave,
    "roles": Role,
    "it_systems": ItSystem,
    "it_users": ItUser,
}


@cache
def field_specs(kind: str) -> tuple[FieldSpec, ...]:
    """The schema of `kind`, in the dataclass's field order (which is also row order)."""
    return tuple(
        FieldSpec(name=f.name, default=f.default, **f.metadata)
        for f in dataclasses.fields(KINDS[kind])
    )


def field_names(kind: str) -> list[str]:
    return [spec.name for spec in field_specs(kind)]


@dataclass(frozen=True)
class Unreadable:
    """A field value a source could not convert (a date not in `date_format`): the store
    reports `problem` together with every other problem of the snapshot."""

    value: Any
    problem: str


@dataclass(frozen=True)
class Place:
    """Where a record came from, and what its source found wrong with it as a whole (a
    CSV row with fewer cells than the header: its fields cannot be trusted)."""

    file: str
    line: int | None = None
    problem: str | None = None


@dataclass
class Snapshot:
    """What the sources said, before the store has checked it.

    `origin` names where each kind's records came from (files or URLs), and `places`,
    where a source knows it, the file and line of each record, so that a rejected
    record can be traced back to the export that carried it. `sources` says, per kind,
    which source (its `name:`) gave how many of the records in turn, so that an id two
    sources both give is reported with both.
    """

    records: dict[str, list[dict[str, Any]]] = dataclasses.field(default_factory=dict)
    origin: dict[str, str] = dataclasses.field(default_factory=dict)
    places: dict[str, list[Place]] = dataclasses.field(default_factory=dict)
    sources: dict[str, list[tuple[str, int]]] = dataclasses.field(default_factory=dict)

    def count(self, kind: str) -> int:
        return len(self.records.get(kind, ()))

    def place(self, kind: str, index: int) -> Place:
        """Where record `index` of `kind` came from: its line if known, else its source."""
        places = self.places.get(kind, ())
        return places[index] if index < len(places) else Place(self.origin.get(kind, kind))

    def places_of(self, kind: str) -> list[Place]:
        return [self.place(kind, index) for index in range(self.count(kind))]

    def source_of(self, kind: str, index: int) -> str | None:
        """The name of the source that gave record `index` of `kind`, if merge was told."""
        for name, count in self.sources.get(kind, ()):
            if index < count:
                return name
            index -= count
        return None

    def merge(self, other: Snapshot, source: str | None = None) -> None:
        """Add the records of another source (named `source`); the store reports ids
        that clash, naming both sources where merge was told their names."""
        for kind, records in other.records.items():
            where = other.origin.get(kind, "?")
            if source is not None:
                self.sources.setdefault(kind, []).append((source, len(records)))
            if kind not in self.records:  # the usual case: one source per kind, as it is
                self.records[kind] = list(records)
                self.places[kind] = list(other.places.get(kind, ()))
                self.origin[kind] = where
                continue
            self.places[kind] = self.places_of(kind) + other.places_of(kind)
            self.records[kind].extend(records)
            self.origin[kind] = f"{self.origin[kind]}, {where}" if kind in self.origin else where
