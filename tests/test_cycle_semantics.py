"""What a cycle promises, against a real slapd: `plan` writes nothing (not even the
store), `validate` reads the sources, a cycle that leaves work undone is `partial`, and
mass attribute rewrites are held by a guard."""

from __future__ import annotations

import json
import sqlite3
from datetime import date
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.daemon_env import DaemonProcess, daemon_config
from tests.sync_env import SyncEnv

pytestmark = pytest.mark.slapd

REFUSED_PHONE = {"id": "a9", "owner": "p4", "type": "phone", "value": "ring til Jens ☎",
                 "visibility": "public"}


@pytest.fixture
def env(tmp_path, slapd) -> SyncEnv:
    return SyncEnv(tmp_path, slapd)


def store_rows(env: SyncEnv) -> dict[str, list[tuple]]:
    """Every row of every table of the store, to compare before and after."""
    with sqlite3.connect(env.root / "store.db") as db:
        tables = [name for (name,) in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        return {table: sorted(db.execute(f"SELECT * FROM {table}").fetchall(), key=repr)
                for table in tables}


def test_plan_creates_no_store(env, capsys):
    plan = env.plan(capsys)
    assert plan["summary"]["create"] > 0
    assert not (env.root / "store.db").exists()


def test_plan_writes_nothing_to_the_store(env, capsys):
    assert env.apply(capsys)[0] == 0
    before = store_rows(env)
    env.org["persons"][2]["surname"] = "Hansen-Berg"
    env.org["engagements"].append({"id": "e9", "person": "p5", "unit": "it",
                                   "job_function": "Udvikler", "valid_from": "2026-11-01"})
    plan = env.plan(capsys)
    changed = {c["anchor"]: c for c in plan["changes"]}
    assert {a["name"] for a in changed["p3"]["attributes"]} >= {"cn", "sn"}
    assert store_rows(env) == before  # not the org, not the ingest log, not the registry
    code, out, _ = env.run(capsys, "show", "person", "p3", "--json")
    assert code == 0 and json.loads(out)["surname"] == "Hansen"


def test_plan_refuses_a_snapshot_the_store_would_refuse(env, capsys):
    assert env.apply(capsys)[0] == 0
    env.config.write_text(env.config.read_text().replace("source_max_shrink: 1.0",
                                                         "source_max_shrink: 0.1"))
    env.org["persons"] = env.org["persons"][:2]
    env.org["engagements"] = env.org["engagements"][:2]
    env.org["managers"], env.org["addresses"] = env.org["managers"][:1], []
    env.write_org()
    code, _, err = env.run(capsys, "plan")
    assert code == 1 and "source_max_shrink" in err


def test_validate_reads_the_sources(env, capsys):
    env.org["engagements"][0]["unit"] = "no-such-unit"
    env.org["engagements"][1]["valid_from"] = "01-08-2015"
    env.write_org()
    code, out, _ = env.run(capsys, "validate")
    assert code == 1
    assert "no-such-unit" in out and "01-08-2015" in out
    assert not (env.root / "store.db").exists()


def test_validate_renders_against_the_source_data(env, capsys, tmp_path):
    shipped = REPO / "mappings" / "openldap.yaml"
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(shipped.read_text(encoding="utf-8").replace(
        "title: \"{{ primary.job_function or '' }}\"",
        "title: \"{{ primary.job_function.upper() }}\""), encoding="utf-8")
    env.config.write_text(env.config.read_text().replace(str(shipped), str(mapping)))
    env.org["engagements"][4]["job_function"] = None  # p5's, only in the source
    env.write_org()
    code, out, _ = env.run(capsys, "validate", "--json")
    assert code == 1
    [problem] = json.loads(out)["problems"]
    assert "p5" in problem["message"] + problem.get("subject", "")


def test_a_cycle_with_a_refused_object_is_partial(env, capsys):
    env.org["addresses"].append(REFUSED_PHONE)
    code, out, _ = env.apply(capsys)
    assert code == 1
    assert "ldap: partial" in out and "1 refused by the server" in out


def test_the_daemon_reports_a_partial_cycle(env, tmp_path):
    env.org["addresses"].append(REFUSED_PHONE)
    env.write_org()
    daemon = DaemonProcess(env.config, daemon_config(env), tmp_path / "daemon.log")
    try:
        daemon.start()
        daemon.wait_for(lambda: daemon.metric("syncd_cycles_total", target="ldap",
                                              result="partial") >= 1, "a partial cycle")
        assert daemon.metric("syncd_cycles_total", target="ldap", result="success") == 0
        assert daemon.metric("syncd_last_success_timestamp_seconds", target="ldap") == 0
        status = daemon.target()
        assert status["result"] == "partial" and "1 refused by the server" in status["error"]
        code, reason = daemon.get("/readyz")
        assert code == 503 and "ldap partial (1 refused by the server)" in reason
        assert daemon.stop() == 0
    finally:
        daemon.kill()


def with_phones(env: SyncEnv) -> None:
    env.org["addresses"] = [a for a in env.org["addresses"] if a["type"] != "phone"]
    env.org["addresses"] += [{"id": f"tel{n}", "owner": f"p{n}", "type": "phone",
                              "value": f"+45 7979 000{n}", "visibility": "public"}
                             for n in range(1, 6)]


def test_a_mass_rewrite_of_one_attribute_is_held(env, capsys):
    env.config.write_text(env.config.read_text().replace(
        "  source_max_shrink: 1.0\n",
        "  source_max_shrink: 1.0\n  max_attribute_changes: 3\n"))
    with_phones(env)
    assert env.apply(capsys)[0] == 0
    for address in env.org["addresses"]:  # the export lost its visibility column
        address["visibility"] = "internal"
    env.org["engagements"][0]["job_function"] = "Kommunaldirektør"
    code, out, _ = env.apply(capsys)
    assert code == 3
    assert "attribute changes 100.0%/20% TRIPPED (telephoneNumber: 5 of 5 users)" in out
    users = env.users()
    assert all(attrs.get("telephoneNumber") for _, attrs in users.values())
    assert users["p1"][1]["title"] == ["Kommunaldirektør"]  # other changes still go ahead
    code, out, _ = env.apply(capsys, "2026-12-01", "--allow-changes", "5")
    assert code == 0
    assert not any(attrs.get("telephoneNumber") for _, attrs in env.users().values())


def test_plan_and_validate_say_a_changed_username_pattern_applies_to_new_accounts(
        env, capsys, tmp_path):
    assert env.apply(capsys)[0] == 0
    shipped = REPO / "mappings" / "openldap.yaml"
    mapping = tmp_path / "mapping.yaml"
    text = shipped.read_text(encoding="utf-8")
    patterns = text[text.index("    patterns:"):text.index("    forbidden:")]
    mapping.write_text(text.replace(patterns, '    patterns: ["{{ first }}.{{ last }}"]\n'
                                              '    numbered: "{{ first }}.{{ last }}{{ n }}"\n'),
                       encoding="utf-8")
    env.config.write_text(env.config.read_text().replace(str(shipped), str(mapping)))
    plan = env.plan(capsys)
    assert plan["changes"] == []  # nobody is renamed
    [notice] = plan["notices"]
    assert "apply to new accounts only" in notice
    code, out, _ = env.run(capsys, "validate")
    assert code == 0 and "note: target ldap: username patterns" in out


def established_to(port: int) -> int:
    """TCP connections to 127.0.0.1:`port` in state ESTABLISHED, as the kernel lists them."""
    rows = Path("/proc/net/tcp").read_text().splitlines()[1:]
    return sum(1 for row in rows if row.split()[2] == f"0100007F:{port:04X}"
               and row.split()[3] == "01")


def test_a_plan_that_fails_after_reading_the_target_closes_its_connection(env, monkeypatch):
    from syncd import cycle
    from syncd.config import load_config
    from syncd.errors import RenderBudgetExceeded
    from syncd.mapping import templating
    from syncd.store import open_store

    monkeypatch.setattr(templating, "MAX_CYCLE_RENDER_SECONDS", 0.0)
    config = load_config(env.config)
    store = open_store("sqlite://")
    org = cycle.preview(config, store, date(2026, 12, 1))
    before = established_to(env.slapd.port)
    with pytest.raises(RenderBudgetExceeded):
        cycle.plan_target(config, store, org, config.targets[0])
    assert established_to(env.slapd.port) == before


def test_a_new_member_never_costs_the_others_their_membership(env, capsys):
    """The mapping spells DNs one way (the configured base DN), slapd another; with
    Permissive Modify a "remove and re-add" of the same members would only remove."""
    env.config.write_text(env.config.read_text().replace(
        f"base_dn: {env.base}", f"base_dn: {env.base.upper()}"))
    assert env.apply(capsys)[0] == 0
    before = env.members("aertebjerg-skole")
    assert len(before) == 2
    env.org["engagements"].append({"id": "e9", "person": "p5", "unit": "skole",
                                   "job_function": "Lærer", "valid_from": "2026-11-01"})
    code, out, _ = env.apply(capsys)
    assert code == 0, out
    assert env.members("aertebjerg-skole") == before | {env.dn("p5")}
    assert env.plan(capsys)["changes"] == []


def test_a_move_that_landed_before_its_modify_was_refused_keeps_groups_right(
        env, capsys, tmp_path):
    """The entry moved (the rename went through), then the server refused its attribute
    change: groups must name it where it now is, not where it was."""
    from tests.test_sync_openldap import use_ou_tree

    use_ou_tree(env, tmp_path)
    assert env.apply(capsys)[0] == 0
    env.org["engagements"][3]["unit"] = "skole"  # p4 moves to the school ...
    env.org["addresses"].append(REFUSED_PHONE)  # ... and gets a phone slapd refuses
    code, out, _ = env.apply(capsys)
    assert code == 1 and "refused" in out
    moved = env.dn("p4")
    assert "ou=ærtebjerg skole" in moved
    assert moved in env.members("aertebjerg-skole")
