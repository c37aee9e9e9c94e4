"""Unit group names: one distinct slug per unit, kept once given, like a username.

Real organisations have several units of one name (an "Administration" in every
department), so a unit's plain slug ("administration") cannot name its group alone.
Names given before (recorded in the registry) are kept while the unit keeps its name;
then units whose plain slug is free take it; the rest add their parent's slug
("administration-skole"), else the start of their id. Units active on the day go first, then by id,
so the same org and registry always give the same names.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import date
from itertools import count

from syncd.mapping.templating import slug
from syncd.org import Unit


def unit_slugs(units: Mapping[str, Unit], day: date, previous: Mapping[str, str]
               ) -> dict[str, str]:
    """Unit id -> a slug no other unit has; `previous` holds the names given before."""
    order = sorted(units.values(), key=lambda u: (not u.active_on(day), u.id))
    names: dict[str, str] = {}
    used: set[str] = set()

    def give(unit: Unit, candidates: Iterable[str]) -> None:
        name = next((c for c in candidates if c not in used), None)
        if name is not None:
            names[unit.id] = name
            used.add(name)

    for unit in order:
        old = previous.get(unit.id)
        if old and _still_named(old, _plain(unit)):
            give(unit, [old])
    for unit in order:
        if unit.id not in names:
            give(unit, [_plain(unit)])
    for unit in order:
        if unit.id not in names:
            give(unit, _variants(unit, units))
    return names


def _plain(unit: Unit) -> str:
    return slug(unit.name) or slug(unit.id)


def _still_named(old: str, plain: str) -> bool:
    """A name given before fits the unit's name today: the unit was not renamed."""
    return old == plain or old.startswith(f"{plain}-")


def _variants(unit: Unit, units: Mapping[str, Unit]) -> Iterator[str]:
    plain = _plain(unit)
    parent = units.get(unit.parent) if unit.parent else None
    if parent is not None and slug(parent.name):
        yield f"{plain}-{slug(parent.name)}"
    short_id = slug(unit.id)[:8]  # a UUID's first 8 hex digits tell units apart
    yield f"{plain}-{short_id}"
    for n in count(2):
        yield f"{plain}-{short_id}-{n}"
