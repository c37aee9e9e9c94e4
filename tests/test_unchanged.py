"""A cycle with nothing to do stops before it reads anything: when the store's data,
the target's marker (OpenLDAP's contextCSN, with syncprov), the day and the config are
as the last full cycle that had nothing to do found them. Any write in the directory,
by syncd or by hand, moves the marker: the next cycle is a full one."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest

from syncd.objects import Owned
from syncd.store import open_store
from tests.daemon_env import DaemonProcess, daemon_config
from tests.sync_env import DAY, SyncEnv

pytestmark = pytest.mark.slapd

UNCHANGED = "ldap: unchanged since its last cycle"


@pytest.fixture
def env(tmp_path, slapd) -> SyncEnv:
    slapd.enable_syncprov()
    return SyncEnv(tmp_path, slapd)


def settled(env: SyncEnv, capsys) -> None:
    """Apply until a full cycle had nothing to do, not even registry rows to settle
    (the entryUUIDs of what the first made): what the next ones compare with."""
    assert env.apply(capsys)[0] == 0
    for _ in range(2):
        code, out, err = env.apply(capsys)
        assert code == 0 and "applied 0 change(s)" in out, out + err


def test_a_cycle_with_nothing_changed_stops_before_planning(env, capsys):
    settled(env, capsys)
    code, out, err = env.apply(capsys)
    assert code == 0 and UNCHANGED in out, out + err
    assert "desired" not in out  # no plan was made, none printed
    code, out, _ = env.apply(capsys, DAY, "--full")
    assert code == 0 and UNCHANGED not in out and "applied 0 change(s)" in out


def test_a_hand_edit_in_the_directory_is_found_by_the_next_cycle(env, capsys):
    settled(env, capsys)
    dn, _ = env.user("p2")
    with env.connection() as conn:
        conn.modify(dn, {"title": [("MODIFY_REPLACE", ["Edited by hand"])]})
    code, out, _ = env.apply(capsys)
    assert code == 0 and UNCHANGED not in out and "applied 1 change(s)" in out
    assert env.user("p2")[1]["title"] == ["Lærer"]


@pytest.mark.parametrize("what", ["org", "day", "mapping"])
def test_a_change_in_the_org_the_day_or_the_mapping_makes_a_full_cycle(env, capsys,
                                                                         tmp_path, what):
    settled(env, capsys)
    day = DAY
    if what == "org":
        env.org["persons"][1]["surname"] = "Østergaard"
    elif what == "day":
        day = "2026-12-02"
    else:
        mapping = tmp_path / "mapping.yaml"
        text = env.config.read_text(encoding="utf-8")
        source = text.split("mapping: ")[1].split("\n")[0]
        mapping.write_text(Path(source).read_text(encoding="utf-8") + "\n# edited\n",
                           encoding="utf-8")
        env.config.write_text(text.replace(source, str(mapping)), encoding="utf-8")
    code, out, _ = env.apply(capsys, day)
    assert code == 0 and UNCHANGED not in out


def test_a_directory_without_a_marker_is_planned_every_cycle(tmp_path, slapd, capsys):
    env = SyncEnv(tmp_path, slapd)  # no syncprov: no contextCSN
    settled(env, capsys)
    code, out, _ = env.apply(capsys)
    assert code == 0 and UNCHANGED not in out and "applied 0 change(s)" in out


def test_past_full_reconcile_a_cycle_plans_again(env, capsys):
    env.config.write_text(env.config.read_text(encoding="utf-8")
                          + "schedule:\n  full_reconcile: 1s\n", encoding="utf-8")
    settled(env, capsys)
    time.sleep(1.1)
    code, out, _ = env.apply(capsys)
    assert code == 0 and UNCHANGED not in out and "applied 0 change(s)" in out


def test_source_files_read_before_are_not_read_again(env, capsys, caplog):
    settled(env, capsys)
    with caplog.at_level("INFO", logger="syncd.cycle"):
        env.apply(capsys)
    assert "the sources' files are as the last ingest read them" in caplog.text
    caplog.clear()
    env.org["persons"][0]["nickname"] = "Søs"
    with caplog.at_level("INFO", logger="syncd.cycle"):
        assert env.apply(capsys)[0] == 0
    assert "ingest from hr: persons +0 ~1 -0" in caplog.text


def test_another_targets_accounts_changing_makes_a_full_cycle(env, capsys):
    """A mapping reads the other targets' accounts (`it_users`): one that changed may
    change what this target wants."""
    settled(env, capsys)
    store = open_store(f"sqlite:///{env.root / 'store.db'}")
    store.save_accounts([Owned("ad", "user", "p1", "cn=x", "sorenad", None, "active")])
    store.close()
    code, out, _ = env.apply(capsys)
    assert code == 0 and UNCHANGED not in out


def test_a_cycle_that_only_settles_registry_rows_is_not_one_with_nothing_to_do(env, capsys):
    assert env.apply(capsys)[0] == 0  # creates; their entryUUIDs are read next cycle
    code, out, _ = env.apply(capsys)  # settles them: nothing applied, rows written
    assert code == 0 and "applied 0 change(s)" in out
    code, out, _ = env.apply(capsys)
    assert code == 0 and UNCHANGED not in out  # planned again, then settled for good
    code, out, _ = env.apply(capsys)
    assert code == 0 and UNCHANGED in out


def test_a_contextcsn_that_no_longer_moves_is_no_marker(env, capsys):
    """syncprov removed (or a database loaded from a replica's export): the suffix keeps
    a contextCSN that writes no longer move; an entry written after it shows that."""
    settled(env, capsys)
    env.slapd.modify_config("dn: olcOverlay={2}syncprov,olcDatabase={1}mdb,cn=config\n"
                            "changetype: delete\n")
    dn, _ = env.user("p2")
    with env.connection() as conn:
        conn.modify(dn, {"title": [("MODIFY_REPLACE", ["Edited by hand"])]})
    code, out, _ = env.apply(capsys)
    assert code == 0 and UNCHANGED not in out
    assert env.user("p2")[1]["title"] == ["Lærer"]


def test_a_mapping_edited_on_disk_waits_for_the_reload_then_is_applied(env, tmp_path):
    """The daemon runs on the mapping it loaded: a cycle before SIGHUP with the file
    already edited must not record the edited file as what it ran on."""
    mapping = tmp_path / "mapping.yaml"
    text = env.config.read_text(encoding="utf-8")
    source = text.split("mapping: ")[1].split("\n")[0]
    mapping.write_text(Path(source).read_text(encoding="utf-8"), encoding="utf-8")
    env.config.write_text(text.replace(source, str(mapping)), encoding="utf-8")
    port = daemon_config(env, interval="1s")
    daemon = DaemonProcess(env.config, port, tmp_path / "daemon.log").start()
    try:
        cycles = lambda: daemon.metric("syncd_cycles_total", target="ldap",  # noqa: E731
                                       result="success")
        daemon.wait_for(lambda: cycles() >= 4, "cycles to settle")
        mapping.write_text(mapping.read_text(encoding="utf-8").replace(
            "title: \"{{ primary.job_function or '' }}\"", "title: \"Medarbejder\""),
            encoding="utf-8")
        seen = cycles()
        daemon.wait_for(lambda: cycles() >= seen + 2, "cycles on the old mapping")
        assert env.user("p2")[1]["title"] == ["Lærer"]
        daemon.signal(signal.SIGHUP)
        daemon.wait_for(lambda: env.user("p2")[1]["title"] == ["Medarbejder"],
                        "the reloaded mapping to reach the directory")
    finally:
        daemon.kill()
