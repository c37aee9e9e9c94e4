"""The org store: accepting snapshots whole or not at all, the delta, as-of queries."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select

from syncd.errors import NotFound, SnapshotRejected
from syncd.org import Snapshot
from syncd.store import SCHEMA_VERSION, ShrinkRefused, Store, open_store
from syncd.store.schema import record_changes

DAY = date(2026, 12, 1)


def snap(data: dict[str, Any]) -> Snapshot:
    return Snapshot(records=data, origin={kind: "org.json" for kind in data})


def ingest(store: Store, data: dict[str, Any], force: bool = False):
    return store.ingest(snap(data), "hr", max_shrink=0.1, force=force)


def test_first_ingest_adds_everything(store, tiny_org):
    result = ingest(store, tiny_org)
    assert result.deltas["persons"].added == ["p1", "p2", "p3", "p4", "p5"]
    assert result.deltas["units"].counts == {"total": 4, "added": 4, "changed": 0, "removed": 0}
    assert store.last_ingest()["counts"]["engagements"]["added"] == 6


def test_same_snapshot_twice_records_no_change(store, tiny_org):
    ingest(store, tiny_org)
    first = store.last_ingest()
    result = ingest(store, tiny_org)
    assert not result.changed
    assert result.summary() == "no change"
    assert store.last_ingest() == first


def test_changed_snapshot_records_exactly_the_changes(store, tiny_org):
    ingest(store, tiny_org)
    tiny_org["persons"][1]["surname"] = "Østergaard"  # p2 changed
    tiny_org["persons"].append({"id": "p6", "given_name": "Ny", "surname": "Person"})
    tiny_org["engagements"][5]["job_function"] = "Pædagogmedhjælper"  # e6 changed
    tiny_org["addresses"] = tiny_org["addresses"][:2]  # a3 removed (1 of 3 > 10%)
    result = ingest(store, tiny_org, force=True)
    assert result.deltas["persons"].added == ["p6"]
    assert result.deltas["persons"].changed == ["p2"]
    assert result.deltas["engagements"].changed == ["e6"]
    assert result.deltas["addresses"].removed == ["a3"]
    assert not result.deltas["units"].changed
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(record_changes.c.kind, record_changes.c.record_id, record_changes.c.change)
            .where(record_changes.c.ingest_id == result.ingest_id)
        ).all()
    assert sorted(rows) == [
        ("addresses", "a3", "removed"),
        ("engagements", "e6", "changed"),
        ("persons", "p2", "changed"),
        ("persons", "p6", "added"),
    ]
    assert store.org(DAY).person("p2").surname == "Østergaard"


def _count(store: Store, table: str) -> int:
    from syncd.store.schema import org_tables

    with store.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(org_tables[table])).scalar_one()


@pytest.mark.parametrize(
    ("break_it", "expected"),
    [
        (lambda o: o["persons"].append({"given_name": "No", "surname": "Id"}),
         "org.json: id: persons[6]: missing"),
        (lambda o: o["units"].append({"id": "x", "name": "X", "parent": "nowhere"}),
         "org.json: parent: units 'x': no unit with id 'nowhere'"),
        (lambda o: o["engagements"].append({"id": "e9", "person": "ghost", "unit": "root"}),
         "org.json: person: engagements 'e9': no person with id 'ghost'"),
        (lambda o: o["engagements"][0].update(valid_from="01-02-2024"),
         "org.json: valid_from: engagements 'e1': '01-02-2024' is not an ISO date (YYYY-MM-DD)"),
        (lambda o: o["units"][0].update(parent="skole"),
         "org.json: parent: units 'root': cycle in the unit tree: root -> skole -> born -> root"),
        (lambda o: o["persons"][0].update(givenname="x"),
         "org.json: givenname: persons 'p1': unknown field; did you mean 'given_name'?"),
        (lambda o: o["persons"].append({"id": "p1", "given_name": "A", "surname": "B"}),
         "org.json: id: persons 'p1': used by another record of this kind"),
        (lambda o: o["engagements"][0].update(primary="yes"),
         "org.json: primary: engagements 'e1': want true or false, got 'yes'"),
        (lambda o: o["addresses"][0].update(visibility="world"),
         "org.json: visibility: addresses 'a1': 'world' is not one of public, internal, secret"),
        (lambda o: o["engagements"][0].update(valid_to="2000-01-01"),
         "org.json: valid_to: engagements 'e1': 2000-01-01 is before valid_from 2010-01-01"),
        (lambda o: o.update(people=[]), "org.json: people: unknown kind (known: units, persons"),
    ],
)
def test_invalid_snapshot_is_refused_whole(store, tiny_org, break_it, expected):
    ingest(store, tiny_org)
    before = store.last_ingest()
    broken = {k: [dict(r) for r in v] for k, v in tiny_org.items()}
    broken["persons"].append({"id": "p-new", "given_name": "Valid", "surname": "Record"})
    break_it(broken)
    with pytest.raises(SnapshotRejected) as info:
        ingest(store, broken)
    assert any(str(problem).startswith(expected) for problem in info.value.problems), \
        info.value.problems
    assert "the store keeps the last good snapshot" in info.value.summary
    assert "org.json" in info.value.summary
    assert store.last_ingest() == before
    assert _count(store, "persons") == 5  # the valid new record was not taken either


def test_every_problem_is_listed_not_just_the_first(store, tiny_org):
    tiny_org["persons"][0]["given_name"] = None
    tiny_org["engagements"][1]["unit"] = "gone"
    tiny_org["leaves"][0]["valid_to"] = "2027-02-30"
    with pytest.raises(SnapshotRejected) as info:
        ingest(store, tiny_org)
    assert len(info.value.problems) == 3
    assert "3 problem(s)" in info.value.summary


def test_a_broken_record_is_checked_for_references_too(store, tiny_org):
    tiny_org["engagements"][0].update(valid_from="01-02-2024", person="ghost", primary="yes")
    with pytest.raises(SnapshotRejected) as info:
        ingest(store, tiny_org)
    assert [str(p) for p in info.value.problems] == [
        "org.json: primary: engagements 'e1': want true or false, got 'yes'",
        "org.json: valid_from: engagements 'e1': '01-02-2024' is not an ISO date (YYYY-MM-DD)",
        "org.json: person: engagements 'e1': no person with id 'ghost'",
    ]


def test_alike_problems_are_listed_once_with_a_count(store, tiny_org):
    for address in tiny_org["addresses"]:
        address["visibility"] = "Offentlig"
    with pytest.raises(SnapshotRejected) as info:
        ingest(store, tiny_org)
    assert "3 problem(s)" in info.value.summary
    assert info.value.lines() == [
        "org.json: visibility: 'Offentlig' is not one of public, internal, secret "
        "(3 times: addresses 'a1', addresses 'a2', addresses 'a3')"]


def test_shrink_guard_refuses_a_truncated_export(store, tiny_org):
    ingest(store, tiny_org)
    truncated = dict(tiny_org, persons=tiny_org["persons"][:1], engagements=[], managers=[],
                     addresses=[], leaves=[], associations=[], roles=[])
    with pytest.raises(ShrinkRefused) as info:
        ingest(store, truncated)
    message = str(info.value)
    assert "persons: 4 of 5 would be removed (80.0% > 10%)" in message
    assert "--force" in message
    assert _count(store, "persons") == 5
    result = ingest(store, truncated, force=True)
    assert result.deltas["persons"].removed == ["p2", "p3", "p4", "p5"]
    assert store.last_ingest()["forced"] is True


def test_empty_snapshot_never_empties_the_store(store, tiny_org):
    ingest(store, tiny_org)
    with pytest.raises(ShrinkRefused):
        ingest(store, {})
    assert _count(store, "persons") == 5


def test_schema_version_is_recorded_and_a_newer_store_is_refused(tmp_path):
    from syncd.errors import StoreError
    from syncd.store.schema import meta

    url = f"sqlite:///{tmp_path / 's.db'}"
    store = open_store(url)
    assert store.schema_version() == SCHEMA_VERSION
    with store.engine.begin() as conn:
        conn.execute(meta.update().values(value=str(SCHEMA_VERSION + 1)))
    with pytest.raises(StoreError, match="upgrade syncd"):
        open_store(url)


def test_store_folder_is_created(tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 'deep' / 'er' / 'store.db'}")
    assert store.schema_version() == SCHEMA_VERSION


# --- as-of queries -------------------------------------------------------------------


@pytest.fixture
def org(store, tiny_org):
    ingest(store, tiny_org)
    return store.org(DAY)


def test_active_and_primary_engagements(org):
    assert [e.id for e in org.active_engagements("p2")] == ["e2", "e3"]
    assert org.primary_engagement("p2").id == "e2"
    assert [u.id for u in org.units_of("p2")] == ["skole", "born"]
    assert org.active_engagements("p4") == []  # ended 2025-06-30
    assert org.primary_engagement("p4") is None
    assert [e.id for e in org.upcoming_engagements("p5", 14)] == ["e6"]
    assert org.upcoming_engagements("p5", 5) == []


def test_manager_is_nearest_up_the_tree_and_never_oneself(org):
    assert org.manager_of("p2").id == "p3"  # skole has a manager
    assert org.manager_of("p3").id == "p1"  # p3 manages skole: skip self, born is vacant
    assert org.manager_of("p1") is None  # the top manager has nobody above
    assert org.manager_of("p4") is None  # no active engagement


def test_contacts_are_public_only_by_default(org):
    assert [a.value for a in org.contacts("p1")] == ["soren@kolding.example"]
    assert len(org.contacts("p1", visibility=("public", "secret"))) == 2


def test_leave_roles_and_managed_units(org):
    assert org.leave("p2").leave_type == "Barsel"
    assert org.leave("p1") is None
    assert [r.role_type for r in org.roles("p3")] == ["Arbejdsmiljø"]
    assert [u.id for u in org.managed_units("p3")] == ["skole"]
    assert org.is_manager("p1") and not org.is_manager("p2")


def test_unit_queries(org):
    assert [u.id for u in org.parent_chain("skole")] == ["born", "root"]
    assert [u.id for u in org.sub_units("root")] == ["born"]  # "old" ended in 2020
    assert [p.id for p in org.members("skole")] == ["p3", "p2"]  # by surname
    assert [m.person.id for m in org.unit_managers("born")] == []  # vacant post left out
    with pytest.raises(NotFound):
        org.unit("nope")
    with pytest.raises(NotFound):
        org.person("nope")


def test_as_of_another_day(store, tiny_org):
    ingest(store, tiny_org)
    later = store.org(date(2026, 12, 10))
    assert [p.id for p in later.members("skole")] == ["p3", "p5", "p2"]
    earlier = store.org(date(2019, 1, 1))
    assert [u.id for u in earlier.sub_units("root")] == ["born", "old"]
    assert earlier.primary_engagement("p4").id == "e5"


def test_leases_keep_threads_and_processes_apart(store):
    import threading

    from syncd.store import Busy

    held, release = threading.Event(), threading.Event()

    def other_thread():
        with store.lease("ingest"):
            held.set()
            release.wait(5)

    thread = threading.Thread(target=other_thread)
    thread.start()
    held.wait(5)
    with pytest.raises(Busy, match=r"^ingest is held by .* since "), store.lease("ingest"):
        pass
    release.set()
    with store.lease("ingest", wait=5):  # waits for the other thread to let go
        pass
    thread.join()


def test_numbers_where_text_belongs_are_refused_not_converted(store, tiny_org):
    tiny_org["persons"].append({"id": 65, "given_name": "Octal", "surname": "Yaml"})
    with pytest.raises(SnapshotRejected) as info:
        ingest(store, tiny_org)
    assert [str(p) for p in info.value.problems] == [
        "org.json: id: persons 65: want text, got int 65 (quote it in YAML)"]



def test_a_store_of_schema_3_is_upgraded_with_every_registry_row_kept(tmp_path):
    from tests.store_env import upgrade_from_v3

    upgrade_from_v3(f"sqlite:///{tmp_path / 'old.db'}")
