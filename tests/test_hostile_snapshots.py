"""Hostile snapshots are refused with a message naming where, never taken or crashed on:
alias bombs, nesting and size in `extra`, lone surrogates, dates not in YYYY-MM-DD."""

from __future__ import annotations

import json
import time
import tracemalloc
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from syncd.errors import SnapshotRejected, SourceError
from syncd.org import Snapshot
from syncd.sources.snapshot import read_snapshot_file
from syncd.store import Store
from syncd.store.accept import MAX_EXTRA_BYTES, MAX_EXTRA_DEPTH, accept

DAY = date(2026, 12, 1)
BILLION_LAUGHS = """\
units:
- id: root
  name: Kolding
persons:
- id: p1
  given_name: A
  surname: B
  extra:
    a: &a [lol,lol,lol,lol,lol,lol,lol,lol,lol]
    b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
    c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
    d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
    e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
    f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
    g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
    h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
"""


def snapshot_file(tmp_path: Path, data: dict[str, Any] | str, suffix: str = ".json") -> Path:
    path = tmp_path / f"org{suffix}"
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


def org(**person: Any) -> dict[str, Any]:
    """One unit and one person with `person`'s fields on top."""
    return {"units": [{"id": "root", "name": "Kolding Kommune"}],
            "persons": [{"id": "p1", "given_name": "Søren", "surname": "Ærø", **person}]}


def problems(data: dict[str, Any]) -> list[str]:
    with pytest.raises(SnapshotRejected) as caught:
        accept(Snapshot(records=data, origin={kind: "org.json" for kind in data}))
    return [str(problem) for problem in caught.value.problems]


def nested(depth: int) -> dict[str, Any]:
    """An `extra` of `depth` levels: {"x": [[...]]}, the mapping itself level 1."""
    value: Any = "deep"
    for _ in range(depth - 1):
        value = [value]
    return {"x": value}


def test_a_billion_laughs_snapshot_is_refused_at_once_in_little_memory(tmp_path):
    path = snapshot_file(tmp_path, BILLION_LAUGHS, ".yaml")
    assert path.stat().st_size <= 420
    tracemalloc.start()
    started = time.monotonic()
    try:
        with pytest.raises(SourceError) as caught:
            read_snapshot_file(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert time.monotonic() - started < 0.5
    assert peak < 1_000_000
    assert str(caught.value) == (f"{path}:10: YAML: alias *a: aliases are not allowed in this "
                                 "file (they can expand without bound); write the values out")


def test_an_anchor_without_an_alias_is_harmless(tmp_path):
    path = snapshot_file(tmp_path, "units:\n- &u {id: root, name: 'A * B'}\n", ".yaml")
    assert read_snapshot_file(path).records["units"] == [{"id": "root", "name": "A * B"}]


def test_shared_structure_in_extra_is_refused_without_walking_it():
    """A bomb built of shared lists, as a YAML loader gives: 30**6 values, 7 levels."""
    bomb: Any = "lol"
    for _ in range(6):
        bomb = [bomb] * 30
    started = time.monotonic()
    found = problems(org(extra={"x": bomb}))
    assert time.monotonic() - started < 0.5
    assert found == [f"org.json: extra: persons 'p1': holds more than {MAX_EXTRA_BYTES} values: "
                     f"it cannot fit in the {MAX_EXTRA_BYTES} bytes allowed"]


def test_100000_nested_arrays_are_refused_naming_the_file(tmp_path):
    text = json.dumps(org(extra={"x": "HOLE"})).replace('"HOLE"', "[" * 100_000 + "]" * 100_000)
    path = snapshot_file(tmp_path, text)
    with pytest.raises(SourceError) as caught:
        read_snapshot_file(path)
    assert str(caught.value) == f"{path}: JSON: nested too deeply to read"


@pytest.mark.parametrize("extra, message", [
    (nested(MAX_EXTRA_DEPTH + 1), f"nests deeper than {MAX_EXTRA_DEPTH} levels of mappings "
                                  "and lists"),
    ({"notes": "x" * MAX_EXTRA_BYTES}, f"is {MAX_EXTRA_BYTES + 13} bytes as JSON, more than the "
                                       f"{MAX_EXTRA_BYTES} allowed"),
    ({"ratio": float("nan")}, "holds NaN or infinity, which is not a number JSON can carry"),
    ({"raw": b"\x00"}, "holds b'\\x00', which is not text, a number, true/false, a list or a "
                       "mapping"),
    ({"name": "\ud800"}, "holds a lone surrogate ('\\ud800'), half of a character: the export "
                         "is broken there"),
])
def test_extra_out_of_bounds_is_refused_naming_kind_id_and_field(extra, message):
    assert problems(org(extra=extra)) == [f"org.json: extra: persons 'p1': {message}"]


@pytest.mark.parametrize("extra", [
    nested(MAX_EXTRA_DEPTH),
    {"notes": "x" * (MAX_EXTRA_BYTES - 13)},
])
def test_extra_at_its_bounds_is_taken(store: Store, extra):
    store.ingest(Snapshot(records=org(extra=extra)), "hr", max_shrink=0.1)
    assert store.org(DAY).person("p1").extra == extra


def test_dates_in_a_yaml_extra_are_kept_as_iso_text(store: Store, tmp_path):
    path = snapshot_file(tmp_path, "persons:\n- {id: p1, given_name: A, surname: B, extra: "
                                   "{hired: 2020-01-31}}\nunits: []\n", ".yaml")
    store.ingest(read_snapshot_file(path), "hr", max_shrink=0.1)
    assert store.org(DAY).person("p1").extra == {"hired": "2020-01-31"}


@pytest.mark.parametrize("field, record, shown", [
    ("given_name", {"given_name": "S\ud800ren"}, "('\\ud800')"),
    ("nickname", {"nickname": "\udfff"}, "('\\udfff')"),
])
def test_a_lone_surrogate_in_text_is_refused_naming_kind_id_and_field(tmp_path, field, record,
                                                                      shown):
    path = snapshot_file(tmp_path, json.dumps(org(**record)))  # JSON escapes: \ud800
    with pytest.raises(SnapshotRejected) as caught:
        accept(read_snapshot_file(path))
    assert [str(p) for p in caught.value.problems] == [
        f"{path}: {field}: persons 'p1': holds a lone surrogate {shown}, half of a character: "
        "the export is broken there"]


def test_a_lone_surrogate_in_a_list_of_text_is_refused():
    data = org()
    data["managers"] = [{"id": "m1", "person": "p1", "unit": "root",
                         "responsibilities": ["Personale", "\ud800"]}]
    assert problems(data) == ["org.json: responsibilities: managers 'm1': holds a lone "
                              "surrogate ('\\ud800'), half of a character: the export is "
                              "broken there"]


def test_names_with_a_lone_surrogate_are_reported_printably():
    """The kind and field names go into the message as they are: they must still print."""
    data = {**org(**{"n\udc00": 1}), "pe\ud801": []}
    found = problems(data)
    assert found == [
        "org.json: pe\\ud801: unknown kind (known: units, persons, engagements, associations, "
        "managers, addresses, leaves, roles, it_systems, it_users)",
        "org.json: n\\udc00: persons 'p1': unknown field (put site fields under extra)"]
    assert "".join(found).encode("utf-8")


@pytest.mark.parametrize("text", ["2026-W48-2", "20261201", "2026-12-1", "2026-336",
                                  "2026-12-01T00:00", "２０２６-１２-０１"])
def test_dates_not_in_yyyy_mm_dd_are_refused(text):
    data = org()
    data["units"][0]["valid_from"] = text
    assert problems(data) == [
        f"org.json: valid_from: units 'root': {text!r} is not an ISO date (YYYY-MM-DD)"]


def test_yyyy_mm_dd_is_read():
    data = org()
    data["units"][0]["valid_from"] = "2026-12-01"
    rows = accept(Snapshot(records=data))
    assert date(2026, 12, 1) in rows["units"]["root"]
