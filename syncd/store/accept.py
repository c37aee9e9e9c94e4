"""Check a snapshot against the org schema before the store takes any of it.

Every problem of every record is collected (file, line, kind, id, field, reason), not
just the first: an HR export with forty broken rows should be fixed in one round trip,
not forty. `accept` needs no store, so `validate` and `plan` can check a snapshot dry.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import Any

from syncd.errors import Problem, SnapshotRejected
from syncd.org import KINDS, FieldSpec, FieldType, Place, Snapshot, Unreadable, field_specs

Row = tuple[Any, ...]
Rows = dict[str, dict[str, Row]]  # kind -> id -> values in field order
FieldProblem = tuple[str, str]  # field, what is wrong with it

MAX_EXTRA_BYTES = 64 * 1024  # `extra` as the store keeps it: JSON in UTF-8
MAX_EXTRA_DEPTH = 8  # levels of mappings and lists; `extra` itself is level 1
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")  # fromisoformat also reads 20261201


@dataclass
class _Checked:
    """One record as far as it could be read, broken or not: references are checked on
    broken records too, so a bad date and an unknown person are reported together."""

    row: Row
    place: Place
    subject: str
    broken: bool

    def problem(self, path: str, message: str) -> Problem:
        return Problem(self.place.file, self.place.line, path, message, self.subject)


def accept(snapshot: Snapshot) -> Rows:
    """The snapshot's records as typed rows, or SnapshotRejected listing every problem."""
    problems = _unknown_kinds(snapshot)
    named: dict[str, set[str]] = {kind: set() for kind in KINDS}  # ids, broken records too
    checked = {kind: _check_kind(snapshot, kind, problems, named[kind]) for kind in KINDS}
    problems += _dangling_references(checked, named)
    rows = {kind: {r.row[0]: r.row for r in records if not r.broken}
            for kind, records in checked.items()}
    problems += _unit_cycles(rows["units"], {r.row[0]: r for r in checked["units"]})
    if problems:
        origin = ", ".join(dict.fromkeys(snapshot.origin.values())) or "the sources"
        summary = (f"snapshot refused, {len(problems)} problem(s) in {origin}; "
                   "the store keeps the last good snapshot")
        raise SnapshotRejected(summary, _in_file_order(problems))
    return rows


def _in_file_order(problems: list[Problem]) -> list[Problem]:
    """By file, then line: a record's problems together, as an editor shows the file."""
    files = {file: rank for rank, file in enumerate(dict.fromkeys(p.file for p in problems))}
    return sorted(problems, key=lambda p: (files[p.file], p.line or 0))


def _unknown_kinds(snapshot: Snapshot) -> list[Problem]:
    return [Problem(snapshot.origin.get(kind, kind), None, _shown(kind),
                    f"unknown kind (known: {', '.join(KINDS)})")
            for kind in sorted(set(snapshot.records) - set(KINDS))]


def _check_kind(snapshot: Snapshot, kind: str, problems: list[Problem],
                named: set[str]) -> list[_Checked]:
    out: list[_Checked] = []
    ids: dict[Any, int] = {}  # id -> the index of the first record giving it
    places, somewhere = snapshot.places.get(kind, ()), Place(snapshot.origin.get(kind, kind))
    for index, record in enumerate(snapshot.records.get(kind, [])):
        place = places[index] if index < len(places) else somewhere
        ident = record.get("id") if isinstance(record, dict) else None
        if isinstance(ident, str):
            named.add(ident)
        subject = f"{kind} {ident!r}" if ident not in (None, "") else f"{kind}[{index}]"
        if not isinstance(record, dict) or place.problem:
            message = place.problem or "not a mapping of fields"
            problems.append(Problem(place.file, place.line, "", message, subject))
            continue
        row, found = _row(kind, record)
        if row[0] is not None and row[0] in ids:
            found.append(("id", _clash(snapshot, kind, ids[row[0]], index)))
        ids.setdefault(row[0], index)
        checked = _Checked(row, place, subject, broken=bool(found))
        problems += [checked.problem(path, message) for path, message in found]
        out.append(checked)
    return out


def _clash(snapshot: Snapshot, kind: str, first: int, index: int) -> str:
    """Two records with one id: within a source, or (naming both) across two."""
    source, other = snapshot.source_of(kind, first), snapshot.source_of(kind, index)
    if source is None or other is None or source == other:
        return "used by another record of this kind"
    return (f"given by source {source} ({_at(snapshot.place(kind, first))}) and by source "
            f"{other} ({_at(snapshot.place(kind, index))}); ids must be unique across sources")


def _at(place: Place) -> str:
    return f"{place.file}:{place.line}" if place.line else place.file


def _row(kind: str, record: dict[str, Any]) -> tuple[Row, list[FieldProblem]]:
    found: list[FieldProblem] = []
    row = tuple(_value(spec, convert, record.get(spec.name), found)
                for spec, convert in _converters(kind))
    return row, [*found, *_unknown_fields(kind, record), *_validity(row, field_specs(kind))]


@cache
def _converters(kind: str) -> tuple[tuple[FieldSpec, Callable[[Any], Any]], ...]:
    """Each field with its conversion, looked up once: 3 million values at 100k persons."""
    return tuple((spec, _CONVERT[spec.type]) for spec in field_specs(kind))


def _value(spec: FieldSpec, convert: Callable[[Any], Any], value: Any,
           found: list[FieldProblem]) -> Any:
    if isinstance(value, Unreadable):
        found.append((spec.name, value.problem))
        return None
    if value is None or value == "":
        if spec.required:
            found.append((spec.name, "missing"))
        return spec.default
    try:
        value = convert(value)
    except (TypeError, ValueError) as exc:
        found.append((spec.name, str(exc)))
        return None
    if spec.choices and (problem := spec.choice_problem(value)):
        found.append((spec.name, problem))
    return value


def _text(value: Any) -> str:
    """Text only: a number here is refused, not converted, because YAML reads an
    unquoted 0101 as 65 and 12:30 as 750, and an id read wrong is an account mixed up."""
    if isinstance(value, str) and value.isascii():  # most values: nothing more to check
        return value
    if not isinstance(value, str):
        hint = " (quote it in YAML)" if isinstance(value, (int, float)) else ""
        raise TypeError(f"want text, got {type(value).__name__} {value!r}{hint}")
    return _encodable(value)


def _encodable(text: str) -> str:
    """`text`, or ValueError if UTF-8 cannot carry it: JSON's "\\ud800" is a lone
    surrogate, half of a character, which no database or LDAP server takes."""
    if text.isascii():  # most values: nothing to check
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(f"holds a lone surrogate ({text[exc.start]!r}), half of a "
                         "character: the export is broken there") from None
    return text


def _date(value: Any) -> date:
    """A date, or text in exactly the YYYY-MM-DD form (not 2026-W48-2 or 20261201)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        raise TypeError(f"want an ISO date, got {type(value).__name__} {value!r}")
    try:
        if _ISO_DATE.fullmatch(value):
            return date.fromisoformat(value)
    except ValueError:
        pass
    raise ValueError(f"{value!r} is not an ISO date (YYYY-MM-DD)")


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"want true or false, got {value!r}")
    return value


def _text_list(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise TypeError(f"want a list of text, got {value!r}")
    return [_encodable(v) for v in value]


def _mapping(value: Any) -> dict[str, Any]:
    """`extra` as the store will keep and give it back (dates as YYYY-MM-DD text), or an
    error if it nests too deep or is too big: site fields are a few values, not a file."""
    if not isinstance(value, dict):
        raise TypeError(f"want a mapping, got {type(value).__name__}")
    _check_shape(value)  # first: json.dumps would recurse once per level
    try:
        text = json.dumps(value, ensure_ascii=False, allow_nan=False, default=_json_value)
    except ValueError:
        raise ValueError("holds NaN or infinity, which is not a number JSON can carry") from None
    size = len(_encodable(text).encode("utf-8"))
    if size > MAX_EXTRA_BYTES:
        raise ValueError(f"is {size} bytes as JSON, more than the {MAX_EXTRA_BYTES} allowed")
    return json.loads(text)


def _check_shape(value: dict[str, Any]) -> None:
    """ValueError if `value` nests too deep, or holds more values than could fit in
    MAX_EXTRA_BYTES; it looks at no more values than that, so a structure that shares
    its parts (a YAML alias bomb) cannot stall it. Breadth first, no recursion."""
    level: list[Any] = [value]
    count = 0
    for _ in range(MAX_EXTRA_DEPTH):
        below: list[Any] = []
        for item in level:
            children = list(item.values() if isinstance(item, dict) else item)
            count += len(children)
            if count > MAX_EXTRA_BYTES:
                raise ValueError(f"holds more than {MAX_EXTRA_BYTES} values: it cannot fit "
                                 f"in the {MAX_EXTRA_BYTES} bytes allowed")
            below += [child for child in children if isinstance(child, (dict, list))]
        level = below
    if level:
        raise ValueError(f"nests deeper than {MAX_EXTRA_DEPTH} levels of mappings and lists")


def _json_value(value: Any) -> str:
    """What YAML reads and JSON has no word for: dates become YYYY-MM-DD text."""
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"holds {value!r}, which is not text, a number, true/false, a list or "
                    "a mapping")


_CONVERT = {
    FieldType.TEXT: _text,
    FieldType.DATE: _date,
    FieldType.BOOL: _bool,
    FieldType.TEXT_LIST: _text_list,
    FieldType.MAPPING: _mapping,
}


def _shown(name: str) -> str:
    """A key from the export as a message can print it: a lone surrogate as \\ud800."""
    return name.encode("utf-8", "backslashreplace").decode("utf-8")


def _unknown_fields(kind: str, record: dict[str, Any]) -> list[FieldProblem]:
    known = [spec.name for spec in field_specs(kind)]
    problems = []
    for name in record.keys() - set(known):
        close = difflib.get_close_matches(str(name), known, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else " (put site fields under extra)"
        problems.append((_shown(str(name)), f"unknown field{hint}"))
    return sorted(problems)


def _validity(row: Row, specs: tuple[FieldSpec, ...]) -> list[FieldProblem]:
    names = [spec.name for spec in specs]
    if "valid_from" not in names:
        return []
    start, end = row[names.index("valid_from")], row[names.index("valid_to")]
    if start and end and end < start:
        return [("valid_to", f"{end} is before valid_from {start}")]
    return []


def _dangling_references(checked: dict[str, list[_Checked]],
                         named: dict[str, set[str]]) -> Iterable[Problem]:
    """References to ids that no record carries (a broken record's id still counts)."""
    for kind in KINDS:
        for position, spec in enumerate(field_specs(kind)):
            if not spec.refers_to:
                continue
            for record in checked[kind]:
                ref = record.row[position]
                if ref is None:
                    continue
                owners = [k for k in spec.refers_to if ref in named[k]]
                if not owners:
                    wanted = " or ".join(k.rstrip("s") for k in spec.refers_to)
                    yield record.problem(spec.name, f"no {wanted} with id {ref!r}")
                elif len(owners) > 1:
                    yield record.problem(spec.name, f"{ref!r} is both a person and a unit")


def _unit_cycles(units: dict[str, Row], checked: dict[str, _Checked]) -> Iterable[Problem]:
    parent_at = [spec.name for spec in field_specs("units")].index("parent")
    state: dict[str, str] = {}  # "open" while on the current walk, "done" after
    for start in units:
        chain: list[str] = []
        node: str | None = start
        while node is not None and node in units and state.get(node) != "done":
            if state.get(node) == "open":
                cycle = [*chain[chain.index(node):], node]
                yield checked[node].problem("parent",
                                            f"cycle in the unit tree: {' -> '.join(cycle)}")
                break
            state[node] = "open"
            chain.append(node)
            node = units[node][parent_at]
        for seen in chain:
            state[seen] = "done"


__all__ = ["Row", "Rows", "accept"]
