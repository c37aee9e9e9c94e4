"""IT users: the sources' `it_users`, syncd's accounts as the persons' IT users in the
store, in `syncd show person` and in what a mapping reads (issue 11, item 3).

The store tests here run on SQLite; tests/test_it_users_postgres.py runs the same
functions on PostgreSQL.
"""

from __future__ import annotations

import json
import textwrap
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from syncd.errors import SnapshotRejected
from syncd.mapping.desired import Desired, desired_state
from syncd.mapping.rules import load_mapping
from syncd.mapping.schema import IdMapping
from syncd.objects import Owned
from syncd.org import Snapshot
from syncd.store import Store, open_store
from syncd.testing.config import write_config
from tests.conftest import REPO
from tests.store_env import make_v4_store, upgrade_from_v4
from tests.sync_env import DAY, SyncEnv

AS_OF = date.fromisoformat(DAY)
SYSTEMS = [{"id": "oko", "name": "Økonomisystem"}, {"id": "ad", "name": "AD"}]
IT_USERS = [
    {"id": "iu1", "person": "p2", "it_system": "oko", "username": "aos",
     "external_id": "ØK-17", "valid_from": "2020-01-01"},
    {"id": "iu2", "person": "p3", "it_system": "oko", "username": "jha",
     "valid_from": "2010-01-01", "valid_to": "2025-12-31"},  # ended
    {"id": "iu3", "person": "p3", "it_system": "ad", "username": "jensh",
     "valid_from": "2027-01-01"},  # not yet
]


def with_it_users(org: dict[str, Any]) -> dict[str, Any]:
    return {**org, "it_systems": SYSTEMS, "it_users": [dict(u) for u in IT_USERS]}


def ingest(store: Store, org: dict[str, Any]) -> None:
    store.ingest(Snapshot(org), "hr", max_shrink=1.0, force=True)


# --- the kind, in the store (shared with PostgreSQL) --------------------------------------


def bad_references_refused(url: str, org: dict[str, Any]) -> None:
    store = open_store(url)
    org = with_it_users(org)
    org["it_users"] += [{"id": "iu9", "person": "nobody", "it_system": "nix"},
                        {"id": "iu10", "person": "p1", "it_system": "ad", "username": "s",
                         "valid_from": "2026-01-02", "valid_to": "2026-01-01"}]
    with pytest.raises(SnapshotRejected) as info:
        ingest(store, org)
    assert sorted(p.message for p in info.value.problems if p.subject == "it_users 'iu9'") == [
        "missing", "no it_system with id 'nix'", "no person with id 'nobody'"]
    assert [(p.subject, p.path) for p in info.value.problems] == [
        ("it_users 'iu9'", "username"), ("it_users 'iu10'", "valid_to"),
        ("it_users 'iu9'", "person"), ("it_users 'iu9'", "it_system")]
    assert store.last_ingest() is None  # nothing of the snapshot was taken


def it_users_in_the_org(url: str, org: dict[str, Any]) -> None:
    """Those valid on the day, with their system's name; the store keeps every one."""
    store = open_store(url)
    ingest(store, with_it_users(org))
    view = store.org(AS_OF)
    [found] = view.it_users("p2")
    assert (found.system, found.it_user.username, found.it_user.external_id) == (
        "Økonomisystem", "aos", "ØK-17")
    assert view.it_users("p3") == [] and view.it_users("p1") == []
    assert [u.it_user.id for u in store.org(date(2027, 1, 1)).it_users("p3")] == ["iu3"]
    assert [(u["system"], u["username"], u["valid_to"], u["origin"])
            for u in store.person_it_users("p3")] == [
        ("AD", "jensh", None, "source"), ("Økonomisystem", "jha", date(2025, 12, 31), "source")]


def since_set_once(url: str) -> None:
    """A reservation has no `since`; the create sets it, and it stays through updates,
    disable and re-enable, while every other column follows the latest save."""
    store = open_store(url)
    row = Owned("ldap", "user", "p1", None, "soerena")
    store.save_accounts([row])
    assert store.person_it_users("p1")[0]["since"] is None
    created = Owned("ldap", "user", "p1", "uid=soerena,ou=people", "soerena", "u-1", "active")
    store.save_accounts([created])
    first = store.person_it_users("p1")[0]["since"]
    assert first == date.today()
    _backdate(store, date(2026, 1, 5))
    for owned in (Owned("ldap", "user", "p1", "uid=soerena,ou=disabled", "soerena", "u-1",
                        "disabled", date(2026, 12, 1)), created):
        store.save_accounts([owned])
        [ours] = store.person_it_users("p1")
        assert (ours["since"], ours["locator"], ours["state"]) == (
            date(2026, 1, 5), owned.locator, owned.state)


def _backdate(store: Store, day: date) -> None:
    """As if the account had been made on `day` (a test cannot wait for the calendar)."""
    with store.writer.begin() as conn:
        conn.execute(text("UPDATE accounts SET since = :day"), {"day": day})


def test_it_users_with_bad_references_are_refused_naming_kind_id_and_reason(tmp_path,
                                                                             tiny_org):
    bad_references_refused(f"sqlite:///{tmp_path / 's.db'}", tiny_org)


def test_it_users_valid_on_the_day_with_their_system_name(tmp_path, tiny_org):
    it_users_in_the_org(f"sqlite:///{tmp_path / 's.db'}", tiny_org)


def test_since_is_the_day_of_the_create_and_kept_after(tmp_path):
    since_set_once(f"sqlite:///{tmp_path / 's.db'}")


def test_a_store_of_schema_4_is_upgraded_keeping_rows_and_setting_since(tmp_path):
    upgrade_from_v4(f"sqlite:///{tmp_path / 'old.db'}")


def test_an_upgraded_store_has_the_schema_of_a_new_one(tmp_path):
    old, new = f"sqlite:///{tmp_path / 'old.db'}", f"sqlite:///{tmp_path / 'new.db'}"
    make_v4_store(old)
    for url in (old, new):
        open_store(url).close()
    assert _schema(old) == _schema(new)
    assert "CREATE INDEX ix_accounts_person ON accounts (kind, key)" in _schema(new)


def _schema(url: str) -> list[str]:
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL "
                                 "ORDER BY name"))
        found = [" ".join(sql.split()) for (sql,) in rows]
    engine.dispose()
    return found


def test_a_person_is_found_by_index_not_by_scanning_the_registry(tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 's.db'}")
    with store.engine.connect() as conn:
        plan = conn.execute(text("EXPLAIN QUERY PLAN SELECT * FROM accounts "
                                 "WHERE kind = 'user' AND key = 'p1'")).all()
    assert "USING INDEX ix_accounts_person" in " ".join(str(row) for row in plan)


# --- what a mapping reads -------------------------------------------------------------------

# `first` of nothing is none (syncd's own filter): `or ''` makes the AD pattern empty, and
# so skipped, for someone without an AD account.
MAPPING = """
users:
  when: "engaged and 'Økonomisystem' in it_systems"
  anchor: externalId
  username:
    attribute: userName
    patterns:
      - "{{ (it_users | selectattr('system', 'eq', 'AD') | map(attribute='username')
           | first) or '' }}"
      - "{{ first }}{{ last[:1] }}"
  attributes:
    title: "{{ it_users | map(attribute='origin') | join(',') }}"
    description: "{{ it_systems | join(',') }}"
"""


def mapping_desired(tmp_path: Path, org: dict[str, Any], mapping: str,
                    elsewhere: dict[str, list[Owned]]) -> Desired:
    store = open_store(f"sqlite:///{tmp_path / 'm.db'}")
    ingest(store, org)
    (tmp_path / "mapping.yaml").write_text(textwrap.dedent(mapping), encoding="utf-8")
    return desired_state(store.org(AS_OF), load_mapping(tmp_path / "mapping.yaml", IdMapping),
                         target="app", context={}, variables={}, known={}, taken=set(),
                         lookup=lambda attribute, value: [], elsewhere=elsewhere)


def test_the_mapping_reads_the_sources_and_the_other_targets_it_users(tmp_path, tiny_org):
    org = with_it_users(tiny_org)
    org["it_users"].append({"id": "iu4", "person": "p1", "it_system": "oko",
                            "username": "soe"})
    elsewhere = {"p1": [Owned("AD", "user", "p1", "uid=sorenad", "sorenad", "guid-1",
                              "active")],
                 "p3": [Owned("AD", "user", "p3", None, "jensh", None, "deleted")]}
    desired = mapping_desired(tmp_path, org, MAPPING, elsewhere)
    assert desired.problems == []
    users = {w.key: w for w in desired.objects}
    assert sorted(users) == ["p1", "p2"]  # p3 has no Økonomisystem user today
    assert users["p1"].username == "sorenad"  # the AD account's username
    assert users["p1"].attrs["title"] == ("source,target",)
    assert users["p1"].attrs["description"] == ("AD,Økonomisystem",)
    assert users["p2"].username == "aaseo"  # no AD account: the next pattern


def test_it_users_are_objects_a_template_can_read_but_not_change(tmp_path, tiny_org):
    mapping = MAPPING.replace("title: \"{{ it_users | map(attribute='origin') | join(',') }}\"",
                              "title: \"{{ it_users[0].external_id }} {{ it_users[0].state }}"
                              "{% set _ = it_users.append(1) %}\"")
    desired = mapping_desired(tmp_path, with_it_users(tiny_org), mapping, {})
    assert [p.subject for p in desired.problems] == ["person p2 (Åse Øster)"]
    assert "not allowed" in desired.problems[0].message


# --- through the real command line, against a real slapd ----------------------------------

APP_MAPPING = """
users:
  when: "engaged and 'Økonomisystem' in it_systems"
  anchor: externalId
  username:
    attribute: userName
    patterns:
      - "{{ (it_users | selectattr('system', 'eq', 'AD') | map(attribute='username')
           | first) or '' }}"
  attributes:
    displayName: "{{ person.given_name }}"
"""


@pytest.fixture
def env(tmp_path, slapd) -> SyncEnv:
    """Two targets: AD (the real slapd, the shipped OpenLDAP mapping), then app (a
    memory target kept in a file) whose mapping reads AD's accounts and the sources'."""
    env = SyncEnv(tmp_path, slapd)
    (tmp_path / "app.yaml").write_text(APP_MAPPING, encoding="utf-8")
    targets = f"""\
  - name: AD
    type: ldap
    url: {slapd.url}
    bind_dn: {slapd.admin_dn}
    password_file: ldap.secret
    base_dn: {slapd.base_dn}
    mapping: {REPO / "mappings" / "openldap.yaml"}
    vars:
      mail_domain: kolding.example
  - name: app
    type: memory
    path: app.json
    mapping: app.yaml
"""
    env.config = write_config(tmp_path, targets)
    env.org = with_it_users(env.org)
    return env


@pytest.mark.slapd
def test_show_person_lists_every_it_user_after_a_real_sync(env, capsys):
    for _ in range(2):  # slapd's entryUUID is recorded as the next cycle reads it
        code, out, err = env.apply(capsys)
        assert code == 0, out + err
    app = json.loads((env.root / "app.json").read_text(encoding="utf-8"))
    assert [(o["attrs"]["externalId"], o["attrs"]["userName"]) for o in app] == [
        (["p2"], ["aaseo"])]  # only p2 has an Økonomisystem user; AD's username reused
    dn = f"uid=aaseo,ou=people,{env.base}"
    uuid = _entry_uuid(env, dn)
    code, out, _ = env.run(capsys, "show", "person", "p2", "--today", DAY, "--json")
    assert code == 0
    card = json.loads(out)
    assert [u["system"] for u in card["it_users"]] == ["AD", "app", "Økonomisystem"]
    ad, _, theirs = card["it_users"]
    assert ad == {"system": "AD", "username": "aaseo", "locator": dn, "anchor": uuid,
                  "state": "active", "since": date.today().isoformat(), "disabled_on": None,
                  "origin": "target"}
    assert theirs == {"system": "Økonomisystem", "username": "aos", "external_id": "ØK-17",
                      "valid_from": "2020-01-01", "valid_to": None, "origin": "source"}
    assert [a["target"] for a in card["accounts"]] == ["AD", "app"]  # as before
    code, out, _ = env.run(capsys, "show", "person", "p2", "--today", DAY)
    assert f"    AD:\n      aaseo  {dn}  {uuid}  (active, since {date.today()}, syncd's)" in out
    assert "    Økonomisystem:\n      aos  id ØK-17  (2020-01-01 to open, from the sources)" in out


@pytest.mark.slapd
def test_a_disabled_account_keeps_its_since_and_shows_when_it_was_disabled(env, capsys):
    env.apply(capsys)
    del env.org["engagements"][1]  # p2 leaves
    later = (AS_OF + timedelta(days=3)).isoformat()
    code, out, err = env.apply(capsys, later)
    assert code == 0, out + err
    code, out, _ = env.run(capsys, "show", "person", "p2", "--today", later, "--json")
    [ad] = [u for u in json.loads(out)["it_users"] if u["system"] == "AD"]
    assert (ad["state"], ad["since"], ad["disabled_on"]) == (
        "disabled", date.today().isoformat(), later)
    assert ad["locator"] == f"uid=aaseo,ou=disabled,{env.base}"


def _entry_uuid(env: SyncEnv, dn: str) -> str:
    with env.connection() as conn:
        conn.search(dn, "(objectClass=*)", search_scope="BASE", attributes=["entryUUID"])
        return str(conn.entries[0].entryUUID)


@pytest.mark.slapd
def test_validate_renders_each_mapping_with_the_other_targets_accounts(env, capsys):
    code, out, err = env.apply(capsys, DAY, "--target", "AD")  # app has no account yet
    assert code == 0, out + err
    code, out, err = env.run(capsys, "validate")
    assert code == 0, out + err  # app's only pattern rendered p2's AD username
