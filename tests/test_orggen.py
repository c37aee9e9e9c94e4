"""The org generator and the shipped sample org.

Other tests lean on both: the generator must give the same org every time, the sample
file must be what `scripts/make-sample-org` makes, and the special cases that script's
docstring promises must be there, dated relative to 2026-12-01.
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import re
import subprocess
import sys
from collections import Counter, defaultdict
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from syncd.sampleorg import dumps_snapshot, generate_org, mail_local

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "samples" / "sample-org.json"
SCRIPT = REPO / "scripts" / "make-sample-org"
TODAY = "2026-12-01"

Snapshot = dict[str, list[dict[str, Any]]]

# CONTRACT section 2: fields per kind (required ones first), plus the optional `extra`.
CONTRACT: dict[str, tuple[set[str], set[str]]] = {
    "units": ({"id", "name"}, {"parent", "unit_type", "valid_from", "valid_to"}),
    "persons": ({"id", "given_name", "surname"}, {"nickname"}),
    "engagements": ({"id", "person", "unit"},
                    {"job_function", "engagement_type", "primary", "valid_from", "valid_to"}),
    "associations": ({"id", "person", "unit"}, {"association_type", "valid_from", "valid_to"}),
    "managers": ({"id", "unit"}, {"person", "manager_type", "responsibilities", "valid_from",
                                  "valid_to"}),
    "addresses": ({"id", "owner", "type", "value"}, {"visibility", "valid_from", "valid_to"}),
    "leaves": ({"id", "person"}, {"leave_type", "valid_from", "valid_to"}),
    "roles": ({"id", "person", "role_type"}, {"unit", "valid_from", "valid_to"}),
    "it_systems": ({"id", "name"}, set()),
    "it_users": ({"id", "person", "it_system", "username"},
                 {"external_id", "valid_from", "valid_to"}),
}
PERSON_REFS = ("engagements", "associations", "managers", "leaves", "roles", "it_users")


# -- helpers: what syncd itself will compute, written out simply -------------------------


def active(record: dict[str, Any], day: str) -> bool:
    """ISO dates compare as strings; valid_to is inclusive, None is open."""
    start, end = record.get("valid_from"), record.get("valid_to")
    return (start is None or start <= day) and (end is None or day <= end)


def by_id(org: Snapshot, kind: str) -> dict[str, dict[str, Any]]:
    return {record["id"]: record for record in org[kind]}


def engagements_of(org: Snapshot, person: str) -> list[dict[str, Any]]:
    return [e for e in org["engagements"] if e["person"] == person]


def primary_unit(org: Snapshot, person: str, day: str = TODAY) -> str:
    (unit,) = [e["unit"] for e in engagements_of(org, person) if e["primary"] and active(e, day)]
    return unit


def managers_of_unit(org: Snapshot, unit: str, day: str = TODAY) -> list[str]:
    return [m["person"] for m in org["managers"] if m["unit"] == unit and active(m, day)]


def nearest_manager(org: Snapshot, person: str, day: str = TODAY) -> str | None:
    """CONTRACT section 3: the primary unit's manager or the nearest ancestor's, never self."""
    units = by_id(org, "units")
    unit: str | None = primary_unit(org, person, day)
    while unit is not None:
        others = [m for m in managers_of_unit(org, unit, day) if m not in (person, None)]
        if others:
            assert len(others) == 1, f"{unit} has several managers: {others}"
            return others[0]
        unit = units[unit]["parent"]
    return None


def shift(day: str, days: int) -> str:
    return (date.fromisoformat(day) + timedelta(days=days)).isoformat()


# -- fixtures ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample() -> Snapshot:
    return json.loads(SAMPLE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def generated() -> Snapshot:
    return generate_org(units=300, persons=3000, engagements=4500, seed=7,
                        as_of=date(2026, 12, 1))


@pytest.fixture(params=["sample", "generated"])
def org(request: pytest.FixtureRequest) -> Snapshot:
    return request.getfixturevalue(request.param)


# -- the generator -------------------------------------------------------------------------


def test_same_seed_gives_the_same_org() -> None:
    first = generate_org(units=40, persons=300, seed=5)
    assert first == generate_org(units=40, persons=300, seed=5)
    assert dumps_snapshot(first) == dumps_snapshot(generate_org(units=40, persons=300, seed=5))
    assert first != generate_org(units=40, persons=300, seed=6)


def test_same_org_in_another_process_whatever_the_hash_seed() -> None:
    code = ("import hashlib; from syncd.sampleorg import dumps_snapshot, generate_org; "
            "print(hashlib.sha256(dumps_snapshot(generate_org(60, 500, seed=3))"
            ".encode()).hexdigest())")
    here = hashlib.sha256(dumps_snapshot(generate_org(60, 500, seed=3)).encode()).hexdigest()
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed, "PYTHONPATH": str(REPO)}
        done = subprocess.run([sys.executable, "-c", code], env=env, check=True,
                              capture_output=True, text=True)
        assert done.stdout.strip() == here


@pytest.mark.parametrize(("units", "persons", "engagements"),
                         [(1, 0, 0), (2, 1, None), (7, 50, 50), (40, 300, 450),
                          (300, 1000, 600)])
def test_counts_are_exact(units: int, persons: int, engagements: int | None) -> None:
    org = generate_org(units, persons, engagements)
    assert len(org["units"]) == units
    assert len(org["persons"]) == persons
    assert len(org["engagements"]) == (round(persons * 1.3) if engagements is None
                                       else engagements)


def test_generated_org_has_the_variety_tests_need(generated: Snapshot) -> None:
    names = Counter((p["given_name"], p["surname"]) for p in generated["persons"])
    assert sum(1 for n in names.values() if n > 1) > 20
    assert any("nickname" in p for p in generated["persons"])
    text = json.dumps(generated["persons"], ensure_ascii=False)
    assert all(letter in text for letter in "æøåÆØÅé")
    engagements = generated["engagements"]
    assert any(e["valid_from"] > TODAY for e in engagements)
    assert any(e["valid_to"] and e["valid_to"] < TODAY for e in engagements)
    per_person = Counter(e["person"] for e in engagements if active(e, TODAY))
    assert any(n >= 2 for n in per_person.values())
    assert any(active(leave, TODAY) for leave in generated["leaves"])
    managed = {m["unit"] for m in generated["managers"] if active(m, TODAY)}
    assert 0.5 * len(generated["units"]) < len(managed) < len(generated["units"])
    for kind in ("associations", "roles", "it_systems", "it_users"):
        assert generated[kind], kind
    visibilities = {(a["type"], a["visibility"]) for a in generated["addresses"]}
    assert {("email", "public"), ("email", "internal"), ("phone", "secret")} <= visibilities


def test_unit_tree_has_four_levels(generated: Snapshot) -> None:
    assert Counter(level_of(generated).values()).keys() == {0, 1, 2, 3}


def test_rejects_an_org_without_root() -> None:
    with pytest.raises(ValueError):
        generate_org(0, 10)


# -- both the sample and a generated org ---------------------------------------------------


def test_records_have_the_contract_fields(org: Snapshot) -> None:
    assert set(org) == set(CONTRACT)
    for kind, (required, optional) in CONTRACT.items():
        for record in org[kind]:
            assert required <= record.keys() <= required | optional, (kind, record)


def test_ids_are_unique_per_kind(org: Snapshot) -> None:
    for kind, records in org.items():
        ids = Counter(r["id"] for r in records)
        assert [i for i, n in ids.items() if n > 1] == [], kind


def test_every_reference_resolves(org: Snapshot) -> None:
    units, persons = by_id(org, "units"), by_id(org, "persons")
    assert all(u["parent"] is None or u["parent"] in units for u in org["units"])
    for kind in PERSON_REFS:
        for record in org[kind]:
            assert record["person"] in persons, (kind, record)
            assert record.get("unit") is None or record["unit"] in units, (kind, record)
    for kind in ("engagements", "associations", "managers"):
        assert all(r["unit"] is not None for r in org[kind]), kind
    assert all(a["owner"] in persons or a["owner"] in units for a in org["addresses"])


def test_unit_tree_has_one_root_and_no_cycles(org: Snapshot) -> None:
    units = by_id(org, "units")
    assert [u for u, r in units.items() if r["parent"] is None] == ["u-root"]
    for start in units:
        seen, unit = set(), start
        while unit is not None:
            assert unit not in seen, f"cycle through {unit}"
            seen.add(unit)
            unit = units[unit]["parent"]


def test_values_are_well_formed(org: Snapshot) -> None:
    for kind in CONTRACT:
        for record in org[kind]:
            for field in ("valid_from", "valid_to"):
                if record.get(field) is not None:
                    date.fromisoformat(record[field])
            if record.get("valid_from") and record.get("valid_to"):
                assert record["valid_from"] <= record["valid_to"], (kind, record)
    assert all(isinstance(e["primary"], bool) for e in org["engagements"])
    for m in org["managers"]:
        assert isinstance(m["responsibilities"], list)
        assert all(isinstance(r, str) for r in m["responsibilities"])
    for a in org["addresses"]:
        assert a["visibility"] in ("public", "internal", "secret")
        assert a["type"] in ("email", "phone", "postal")


def test_names_and_mail_addresses_are_unique(org: Snapshot) -> None:
    names = Counter(u["name"] for u in org["units"])
    assert [n for n, c in names.items() if c > 1] == []
    mails = Counter(a["value"] for a in org["addresses"] if a["type"] == "email")
    assert [m for m, c in mails.items() if c > 1] == []
    assert all(re.fullmatch(r"[a-z0-9.-]+@kolding\.example", m) for m in mails)


def test_one_active_primary_per_engaged_person(org: Snapshot) -> None:
    for day in (shift(TODAY, -400), TODAY, shift(TODAY, 7), shift(TODAY, 60)):
        engaged: defaultdict[str, list[bool]] = defaultdict(list)
        for e in org["engagements"]:
            if active(e, day):
                engaged[e["person"]].append(e["primary"])
        wrong = {p: flags for p, flags in engaged.items() if flags.count(True) != 1}
        assert wrong == {}, day


def test_records_lie_within_their_units_life(org: Snapshot) -> None:
    units = by_id(org, "units")
    for kind in ("engagements", "associations", "managers", "roles"):
        for record in org[kind]:
            if record["unit"] is not None:
                assert (units[record["unit"]]["valid_from"] or "") <= record["valid_from"], record


# -- the shipped sample -------------------------------------------------------------------


def test_sample_file_is_what_the_script_makes(tmp_path: Path) -> None:
    out = tmp_path / "sample-org.json"
    subprocess.run([sys.executable, str(SCRIPT), str(out)], check=True, capture_output=True)
    assert out.read_bytes() == SAMPLE.read_bytes(), "run scripts/make-sample-org"


def test_script_is_executable() -> None:
    assert os.access(SCRIPT, os.X_OK)


def test_every_id_in_the_script_docstring_exists(sample: Snapshot) -> None:
    doc = ast.get_docstring(ast.parse(SCRIPT.read_text(encoding="utf-8"))) or ""
    named = set(re.findall(r"\b([pu]-[a-z0-9-]*[a-z0-9])\b", doc))
    known = set(by_id(sample, "persons")) | set(by_id(sample, "units"))
    assert named - known == set()
    assert len(named) > 20


def test_sample_size_and_shape(sample: Snapshot) -> None:
    assert 35 <= len(sample["units"]) <= 45
    assert 280 <= len(sample["persons"]) <= 320
    assert set(level_of(sample).values()) == {0, 1, 2, 3}


def test_people_sharing_a_full_name(sample: Snapshot) -> None:
    persons = by_id(sample, "persons")
    for a, b in (("p-namesake-1a", "p-namesake-1b"), ("p-namesake-2a", "p-namesake-2b")):
        assert full_name(persons[a]) == full_name(persons[b])
        assert mail_of(sample, a) != mail_of(sample, b)
    assert primary_unit(sample, "p-namesake-2a") == primary_unit(sample, "p-namesake-2b")
    aase = persons["p-aase-1"], persons["p-aase-2"]
    assert full_name(aase[0]) != full_name(aase[1])
    assert len({mail_local(p["given_name"], p["surname"]) for p in aase}) == 1


@pytest.mark.parametrize(("person", "starts", "in_window"),
                         [("p-future-7d", "2026-12-08", True),
                          ("p-future-40d", "2027-01-10", False)])
def test_future_starters(sample: Snapshot, person: str, starts: str, in_window: bool) -> None:
    (engagement,) = engagements_of(sample, person)
    assert engagement["valid_from"] == starts and engagement["primary"]
    assert not active(engagement, TODAY)
    assert (engagement["valid_from"] <= shift(TODAY, 14)) is in_window


def test_ended_and_last_day(sample: Snapshot) -> None:
    (ended,) = engagements_of(sample, "p-ended")
    assert ended["valid_to"] < TODAY
    (last,) = engagements_of(sample, "p-last-day")
    assert last["valid_to"] == TODAY and active(last, TODAY)
    assert not active(last, shift(TODAY, 1))


def test_person_on_leave_is_engaged(sample: Snapshot) -> None:
    assert any(active(e, TODAY) for e in engagements_of(sample, "p-leave"))
    assert any(leave["person"] == "p-leave" and active(leave, TODAY)
               for leave in sample["leaves"])


def test_two_active_engagements_one_primary(sample: Snapshot) -> None:
    jobs = [e for e in engagements_of(sample, "p-two-jobs") if active(e, TODAY)]
    assert len(jobs) == 2
    assert sorted(e["primary"] for e in jobs) == [False, True]
    assert jobs[0]["unit"] != jobs[1]["unit"]


@pytest.mark.parametrize(("person", "manager"), [
    ("p-mgr-root", None),
    ("p-mgr-mid", "p-mgr-root"),
    ("p-namesake-1a", "p-mgr-mid"),
    ("p-mgr-self", "p-mgr-mid"),
    ("p-staff-self", "p-mgr-self"),
    ("p-two-jobs", "p-mgr-self"),
    ("p-no-manager", "p-mgr-mid"),
    ("p-namesake-1b", "p-mgr-mid"),
    ("p-last-day", "p-mgr-mid"),
])
def test_nearest_manager(sample: Snapshot, person: str, manager: str | None) -> None:
    assert nearest_manager(sample, person) == manager


def test_managers_where_promised(sample: Snapshot) -> None:
    assert managers_of_unit(sample, "u-root") == ["p-mgr-root"]
    assert primary_unit(sample, "p-mgr-root") == "u-root"
    assert managers_of_unit(sample, "u-mid") == ["p-mgr-mid"]
    assert managers_of_unit(sample, "u-self-managed") == ["p-mgr-self"]
    assert primary_unit(sample, "p-mgr-self") == "u-self-managed"
    unmanaged = {"u-no-manager", "u-no-manager-team"}
    assert not [m for m in sample["managers"] if m["unit"] in unmanaged]
    levels = level_of(sample)
    managed = {m["unit"] for m in sample["managers"] if active(m, TODAY)}
    generated_mid = {u for u, level in levels.items() if level in (1, 2) and u[1:2] != "-"}
    assert len(managed & generated_mid) >= 3
    assert len(set(levels) - managed) >= 5


def test_names_with_danish_letters_and_accents(sample: Snapshot) -> None:
    persons = by_id(sample, "persons")
    assert set("ØÅÆ") <= set(full_name(persons["p-aeoeaa"]))
    assert set("æøå") <= set(full_name(persons["p-nickname"]) + full_name(persons["p-aeoeaa"]))
    assert set("éëè") <= set(full_name(persons["p-accents"]))
    assert mail_of(sample, "p-accents") == "renee.zoe.lefevre@kolding.example"
    assert persons["p-nickname"]["nickname"] == "Lotte"


def test_person_without_public_contact(sample: Snapshot) -> None:
    contacts = [a for a in sample["addresses"] if a["owner"] == "p-staff-self"]
    assert contacts and all(a["visibility"] != "public" for a in contacts)


# -- small helpers for the sample tests ------------------------------------------------------


def level_of(org: Snapshot) -> dict[str, int]:
    units = by_id(org, "units")

    def depth(unit: str) -> int:
        parent = units[unit]["parent"]
        return 0 if parent is None else 1 + depth(parent)

    return {unit: depth(unit) for unit in units}


def full_name(person: dict[str, Any]) -> str:
    return f"{person['given_name']} {person['surname']}"


def mail_of(org: Snapshot, person: str) -> str:
    (mail,) = [a["value"] for a in org["addresses"]
               if a["owner"] == person and a["type"] == "email"]
    return mail
