"""OpenLDAP and a SCIM provider in one config, planned from one ingest, through the real
CLI: the contract's lifecycle on both (hire, move, rename, leave, return, delete), and
every account recorded as the person's IT user in each."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from syncd.testing.scim import ScimServer
from tests.conftest import REPO
from tests.daemon_env import DaemonProcess, daemon_config, free_port
from tests.fixtures_scim import before_each_apply
from tests.sync_env import SyncEnv

pytestmark = pytest.mark.slapd

ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


class TwoTargets(SyncEnv):
    """SyncEnv's slapd target, and a SCIM target `it` after it in the same config."""

    def __init__(self, root: Path, slapd: Any, scim: ScimServer, url: str | None = None):
        super().__init__(root, slapd)
        self.scim = scim
        text = self.config.read_text(encoding="utf-8")
        self.config.write_text(text + f"""\
  - name: it
    type: scim
    url: {url or scim.url}
    token_file: {scim.token_file()}
    retries: 1
    mapping: {REPO / "mappings" / "scim.yaml"}
    vars:
      mail_domain: kolding.example
      organization: Kolding Kommune
""", encoding="utf-8")

    def scim_users(self) -> dict[str, dict[str, Any]]:
        """person id -> the User resource that carries it as externalId."""
        return {u["externalId"]: u for u in self.scim.all("/Users") if u.get("externalId")}

    def scim_groups(self) -> dict[str, set[str]]:
        """displayName -> the externalIds of its members."""
        ids = {u["id"]: u.get("externalId") for u in self.scim.all("/Users")}
        return {g["displayName"]: {ids[m["value"]] for m in g.get("members") or []}
                for g in self.scim.all("/Groups")}


@pytest.fixture
def env(tmp_path: Path, slapd: Any, scim_server: ScimServer) -> TwoTargets:
    return TwoTargets(tmp_path, slapd, scim_server)


def test_one_apply_provisions_both_targets_with_the_same_usernames(env, capsys):
    code, out, err = env.apply(capsys)
    assert code == 0, out + err
    # 5 users (each manager before the people it manages) and 5 groups: no follow-ups
    assert re.search(r"^it: success; applied 10 change\(s\)$", out, re.MULTILINE), out
    ldap = {pid: attrs["uid"][0] for pid, (_, attrs) in env.users().items()}
    users = env.scim_users()
    assert {pid: u["userName"] for pid, u in users.items()} == ldap
    aase = users["p2"]
    assert aase["name"] == {"givenName": "Åse", "familyName": "Østergård",
                            "formatted": "Åse Østergård"}
    assert aase["displayName"] == "Åsa Østergård"
    assert aase["emails"] == [{"type": "work", "value": "aaseo@kolding.example",
                               "primary": True}]
    assert aase["phoneNumbers"] == [{"type": "work", "value": "+45 7979 1234"}]
    assert aase["title"] == "Lærer" and aase["active"] is True
    enterprise = aase[ENTERPRISE]
    assert enterprise["employeeNumber"] == "p2"
    assert enterprise["department"] == "Ærtebjerg Skole"
    assert enterprise["organization"] == "Kolding Kommune"
    assert enterprise["manager"]["value"] == users["p3"]["id"]  # p3 manages skole
    groups = env.scim_groups()
    assert groups["aertebjerg-skole"] == {"p2", "p3"}
    assert groups["managers"] == {"p1", "p3"}
    again = env.plan(capsys)
    assert [p["changes"] for p in again["plans"]] == [[], []], again


def test_the_lifecycle_converges_on_both_targets(env, capsys):
    env.apply(capsys)
    ids = {pid: u["id"] for pid, u in env.scim_users().items()}

    env.org["engagements"][1].update(unit="it", job_function="IT-supporter")  # p2 moves
    env.org["persons"][1]["surname"] = "Østergaard-Berg"  # and marries
    assert env.apply(capsys)[0] == 0
    aase = env.scim_users()["p2"]
    assert aase["id"] == ids["p2"] and aase["userName"] == "aaseo"  # the name stays
    assert aase["title"] == "IT-supporter" and aase["name"]["familyName"] == "Østergaard-Berg"
    assert aase[ENTERPRISE]["department"] == "IT-afdelingen"
    groups = env.scim_groups()
    assert "p2" in groups["it-afdelingen"] and "p2" not in groups["aertebjerg-skole"]

    env.org["engagements"][3]["valid_to"] = "2026-11-30"  # p4 leaves
    assert env.apply(capsys)[0] == 0
    jens = env.scim_users()["p4"]
    assert jens["active"] is False and jens["id"] == ids["p4"]
    assert "p4" not in env.scim_groups().get("it-afdelingen", set())
    assert env.user("p4")[0].startswith("uid=jhansen,ou=disabled")

    env.org["engagements"][3]["valid_to"] = None  # and comes back
    assert env.apply(capsys)[0] == 0
    jens = env.scim_users()["p4"]
    assert jens["active"] is True and jens["id"] == ids["p4"] and jens["userName"] == "jhansen"

    env.org["engagements"][4]["valid_to"] = "2026-11-30"  # p5 leaves for good
    env.apply(capsys)
    assert env.scim_users()["p5"]["active"] is False
    code, out, err = env.apply(capsys, "2027-01-05")  # past delete_after_days (30)
    assert code == 0, out + err
    assert "p5" not in env.scim_users() and "p5" not in env.users()
    plan = env.plan(capsys, "2027-01-05")
    assert [p["changes"] for p in plan["plans"]] == [[], []]


def test_show_person_lists_the_accounts_in_both_targets(env, capsys):
    env.apply(capsys)
    code, out, _ = env.run(capsys, "show", "person", "p2", "--json")
    assert code == 0
    card = json.loads(out)
    systems = {u["system"]: u for u in card["it_users"]}
    scim_id = env.scim_users()["p2"]["id"]
    assert systems["it"]["username"] == "aaseo" and systems["it"]["anchor"] == scim_id
    assert systems["it"]["locator"] == scim_id and systems["it"]["state"] == "active"
    assert systems["ldap"]["locator"].lower() == env.dn("p2")
    code, text, _ = env.run(capsys, "show", "person", "p2")
    assert "it" in text and scim_id in text and "uid=aaseo,ou=people" in text



def test_a_provider_that_is_down_does_not_hold_up_the_directory(tmp_path, slapd,
                                                                scim_server, capsys):
    env = TwoTargets(tmp_path, slapd, scim_server, url=f"http://127.0.0.1:{free_port()}/v2")
    code, out, err = env.apply(capsys)
    assert code == 1
    assert set(env.users()) == {"p1", "p2", "p3", "p4", "p5"}  # the directory got its cycle
    assert "target it: cycle failed: SCIM provider http://127.0.0.1:" in err
    assert scim_server.token not in out + err


def test_the_daemon_reports_each_target_apart(env, tmp_path):
    port = daemon_config(env)
    daemon = DaemonProcess(env.config, port, tmp_path / "daemon.log").start()
    try:
        daemon.wait_for(lambda: all(daemon.metric("syncd_cycles_total", target=name,
                                                  result="success") >= 1
                                    for name in ("ldap", "it")), "a cycle of each target")
        assert daemon.target("it")["result"] == "success"
        assert daemon.metric("syncd_managed_objects", target="it", kind="user") == 5
        assert daemon.metric("syncd_managed_objects", target="ldap", kind="user") == 5
    finally:
        daemon.kill()
    assert set(env.scim_users()) == {"p1", "p2", "p3", "p4", "p5"}


def test_a_provider_stopped_mid_run_converges_on_the_next_apply(tmp_path, slapd, scim_server,
                                                                 scim_proxy, capsys,
                                                                 monkeypatch):
    env = TwoTargets(tmp_path, slapd, scim_server, url=scim_proxy.url)
    stop_after = 3

    def goes_down(change: Any, n: int) -> None:
        if n == stop_after:
            scim_proxy.stop()

    before_each_apply(monkeypatch, goes_down, target="it")
    code, out, err = env.apply(capsys)
    assert code == 1 and f"target it: cycle failed: SCIM provider {scim_proxy.url}" in err
    assert set(env.users()) == {"p1", "p2", "p3", "p4", "p5"}  # the directory is done
    assert len(env.scim_users()) == stop_after  # what landed before it went down stays
    monkeypatch.undo()
    scim_proxy.start()
    code, out, err = env.apply(capsys)
    assert code == 0, out + err
    users = env.scim_users()
    assert len(scim_server.all("/Users")) == 5  # one account each, never two
    ldap = {pid: attrs["uid"][0] for pid, (_, attrs) in env.users().items()}
    assert {pid: u["userName"] for pid, u in users.items()} == ldap
    assert env.scim_groups()["managers"] == {"p1", "p3"}
    plan = env.plan(capsys)
    assert [p["changes"] for p in plan["plans"]] == [[], []]
