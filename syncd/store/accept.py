"""Check a snapshot against the org schema before the store takes any of it.

Every problem is collected (kind, id, reason), not just the first: an HR export with
forty broken rows should be fixed in one round trip, not forty.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from syncd.errors import SnapshotRejected
from syncd.org import KINDS, FieldSpec, FieldType, Snapshot, field_specs

Row = tuple[Any, ...]
Rows = dict[str, dict[str, Row]]  # kind -> id -> values in field order

MAX_LISTED = 200


def accept(snapshot: Snapshot) -> Rows:
    """The snapshot's records as typed rows, or SnapshotRejected listing every problem."""
    problems: list[str] = []
    unknown_kinds = sorted(set(snapshot.records) - set(KINDS))
    problems += [f"{kind}: unknown kind (known: {', '.join(KINDS)})" for kind in unknown_kinds]
    named: dict[str, set[str]] = {kind: set() for kind in KINDS}  # ids, broken records too
    rows = {
        kind: _rows(kind, snapshot.records.get(kind, []), problems, named[kind])
        for kind in KINDS
    }
    problems += _dangling_references(rows, named)
    problems += _unit_cycles(rows["units"])
    if problems:
        shown = problems[:MAX_LISTED]
        if len(problems) > MAX_LISTED:
            shown.append(f"... and {len(problems) - MAX_LISTED} more")
        origin = ", ".join(dict.fromkeys(snapshot.origin.values())) or "the sources"
        summary = (f"snapshot refused, {len(problems)} problem(s) in {origin}; "
                   "the store keeps the last good snapshot")
        raise SnapshotRejected(summary, shown)
    return rows


def _rows(kind: str, records: list[Any], problems: list[str], named: set[str]) -> dict[str, Row]:
    out: dict[str, Row] = {}
    specs = field_specs(kind)
    for index, record in enumerate(records):
        where = f"{kind}[{index}]"
        if not isinstance(record, dict):
            problems.append(f"{where}: not a mapping of fields")
            continue
        ident = record.get("id")
        if isinstance(ident, str):
            named.add(ident)
        label = f"{kind} {ident!r}" if ident not in (None, "") else where
        record_problems: list[str] = []
        row = tuple(_value(spec, record.get(spec.name), record_problems) for spec in specs)
        record_problems += _unknown_fields(kind, record)
        record_problems += _validity(row, specs)
        if row[0] is not None and row[0] in out:
            record_problems.append("id: used by another record of this kind")
        problems += [f"{label}: {message}" for message in record_problems]
        if not record_problems:
            out[row[0]] = row
    return out


def _value(spec: FieldSpec, value: Any, problems: list[str]) -> Any:
    if value is None or value == "":
        if spec.required:
            problems.append(f"{spec.name}: missing")
        return spec.default
    try:
        value = _CONVERT[spec.type](value)
    except (TypeError, ValueError) as exc:
        problems.append(f"{spec.name}: {exc}")
        return None
    if spec.choices and value not in spec.choices:
        problems.append(f"{spec.name}: {value!r} is not one of {', '.join(spec.choices)}")
    return value


def _text(value: Any) -> str:
    """Text only: a number here is refused, not converted, because YAML reads an
    unquoted 0101 as 65 and 12:30 as 750, and an id read wrong is an account mixed up."""
    if not isinstance(value, str):
        hint = " (quote it in YAML)" if isinstance(value, (int, float)) else ""
        raise TypeError(f"want text, got {type(value).__name__} {value!r}{hint}")
    return value


def _date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        raise TypeError(f"want an ISO date, got {type(value).__name__} {value!r}")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value!r} is not an ISO date (YYYY-MM-DD)") from None


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"want true or false, got {value!r}")
    return value


def _text_list(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise TypeError(f"want a list of text, got {value!r}")
    return value


def _mapping(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise TypeError(f"want a mapping, got {type(value).__name__}")
    return value


_CONVERT = {
    FieldType.TEXT: _text,
    FieldType.DATE: _date,
    FieldType.BOOL: _bool,
    FieldType.TEXT_LIST: _text_list,
    FieldType.MAPPING: _mapping,
}


def _unknown_fields(kind: str, record: dict[str, Any]) -> list[str]:
    known = [spec.name for spec in field_specs(kind)]
    problems = []
    for name in record.keys() - set(known):
        close = difflib.get_close_matches(str(name), known, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else " (put site fields under extra)"
        problems.append(f"{name}: unknown field{hint}")
    return sorted(problems)


def _validity(row: Row, specs: tuple[FieldSpec, ...]) -> list[str]:
    names = [spec.name for spec in specs]
    if "valid_from" not in names:
        return []
    start, end = row[names.index("valid_from")], row[names.index("valid_to")]
    if start and end and end < start:
        return [f"valid_to {end} is before valid_from {start}"]
    return []


def _dangling_references(rows: Rows, named: dict[str, set[str]]) -> Iterable[str]:
    """References to ids that no record carries (a broken record's id still counts)."""
    for kind in KINDS:
        specs = field_specs(kind)
        for position, spec in enumerate(specs):
            if not spec.refers_to:
                continue
            for ident, row in rows[kind].items():
                ref = row[position]
                if ref is None:
                    continue
                owners = [k for k in spec.refers_to if ref in named[k]]
                if not owners:
                    wanted = " or ".join(k.rstrip("s") for k in spec.refers_to)
                    yield f"{kind} {ident!r}: {spec.name}: no {wanted} with id {ref!r}"
                elif len(owners) > 1:
                    yield f"{kind} {ident!r}: {spec.name}: {ref!r} is both a person and a unit"


def _unit_cycles(units: dict[str, Row]) -> Iterable[str]:
    parent_at = [spec.name for spec in field_specs("units")].index("parent")
    state: dict[str, str] = {}  # "open" while on the current walk, "done" after
    for start in units:
        chain: list[str] = []
        node: str | None = start
        while node is not None and node in units and state.get(node) != "done":
            if state.get(node) == "open":
                cycle = [*chain[chain.index(node):], node]
                yield f"units {node!r}: parent: cycle in the unit tree: {' -> '.join(cycle)}"
                break
            state[node] = "open"
            chain.append(node)
            node = units[node][parent_at]
        for seen in chain:
            state[seen] = "done"


__all__ = ["Row", "Rows", "accept"]
