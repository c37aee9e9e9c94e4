"""CONTRACT section 3's Active Directory lifecycle with mappings/ad.yaml, against a real
Samba AD DC (a fresh domain per test), through the real CLI.

What is checked is read back raw over LDAPS, as an AD administrator would see it:
userAccountControl as the server holds it, objectGUID as bytes, and the store's own
record of each account (SQLite) for the anchor.
"""

from __future__ import annotations

import json
import sqlite3
import stat
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import ldap3
import pytest
from ldap3.core.exceptions import LDAPBindError

from syncd.cli import main
from syncd.testing.samba import SambaDC
from tests.conformance import AdHarness
from tests.sync_env import DAY

LATER = "2027-01-15"  # more than delete_after_days (30) after DAY
GLOBAL_SECURITY = -2147483646  # groupType: global (0x2) and security (0x80000000)
ENABLED, DISABLED = 512, 514  # NORMAL_ACCOUNT, with ACCOUNTDISABLE
DONT_EXPIRE_PASSWORD = 0x10000
NEVER = 9223372036854775807  # accountExpires: never
USERNAMES = {"soerena", "aaseo", "jensh", "jhansen", "reneel"}
UNIT_GROUPS = {"kolding-kommune", "boern-og-unge", "aertebjerg-skole", "it-afdelingen"}


class AdEnv(AdHarness):
    """The conformance harness's AD set-up, with ways to run the CLI and look raw."""

    def __init__(self, root: Path, samba_dc: SambaDC):
        super().__init__(root, samba_dc)
        self.base = samba_dc.base_dn
        self.write_config()

    def run(self, capsys: Any, *argv: str) -> tuple[int, str, str]:
        self.write_org()
        code = main([*argv, "-c", str(self.root / "config.yaml")])
        out, err = capsys.readouterr()
        return code, out, err

    def apply(self, capsys: Any, day: str = DAY) -> str:
        code, out, err = self.run(capsys, "apply", "--today", day)
        assert code == 0, out + err
        return out

    def plan(self, capsys: Any, day: str = DAY) -> dict[str, Any]:
        code, out, err = self.run(capsys, "plan", "--json", "--today", day)
        assert code == 0, err
        return json.loads(out)

    def engagement(self, engagement_id: str) -> dict[str, Any]:
        return next(e for e in self.org["engagements"] if e["id"] == engagement_id)

    # --- looking at the domain --------------------------------------------------------

    def search(self, ldap_filter: str, base: str | None = None) -> dict[str, dict[str, list]]:
        """DN -> attribute -> values (text; objectGUID as its UUID string)."""
        with self.dc.connection() as conn:
            conn.search(base or self.base, ldap_filter, attributes=["*", "objectGUID"])
            return {r["dn"]: {name: _values(name, raw) for name, raw in
                              r["raw_attributes"].items()}
                    for r in conn.response if r["type"] == "searchResEntry"}

    def users(self) -> dict[str, tuple[str, dict[str, list]]]:
        """person id -> (DN, attributes) of every account carrying an employeeID."""
        found: dict[str, tuple[str, dict[str, list]]] = {}
        for dn, attrs in self.search("(&(objectClass=user)(employeeID=*))").items():
            person = attrs["employeeID"][0]
            assert person not in found, f"two accounts for {person}: {found[person][0]}, {dn}"
            found[person] = (dn, attrs)
        return found

    def user(self, person_id: str) -> tuple[str, dict[str, list]]:
        return self.users()[person_id]

    def dn(self, person_id: str) -> str:
        return self.user(person_id)[0]

    def groups(self) -> dict[str, dict[str, list]]:
        return {attrs["cn"][0]: attrs
                for attrs in self.search("(objectClass=group)", f"OU=groups,{self.base}").values()}

    def members(self, group: str) -> set[str]:
        return {dn.lower() for dn in self.groups().get(group, {}).get("member", [])}

    def store_accounts(self) -> dict[str, tuple[str, str, str]]:
        """person id -> (anchor, state, username) as the store records the account."""
        with sqlite3.connect(self.root / "store.db") as db:
            rows = db.execute("SELECT key, anchor, state, username FROM accounts "
                              "WHERE target = 'ad' AND kind = 'user'").fetchall()
        return {key: (anchor, state, username) for key, anchor, state, username in rows}

    def password(self, username: str) -> str:
        return (self.passwords / username).read_text(encoding="utf-8").strip()

    def binds(self, username: str) -> bool:
        try:
            self.dc.connection(f"{username}@test.local", self.password(username)).unbind()
        except LDAPBindError:
            return False
        return True

    def set_uac(self, dn: str, value: int) -> None:
        with self.dc.connection() as conn:
            assert conn.modify(dn, {"userAccountControl": [(ldap3.MODIFY_REPLACE, [value])]}
                               ), conn.result


def _values(name: str, raw: list[bytes]) -> list[str]:
    if name.lower() == "objectguid":
        return [str(uuid.UUID(bytes_le=value)) for value in raw]
    return [value.decode("utf-8", "replace") for value in raw]  # objectSid is binary


def filetime(day: str) -> int:
    """accountExpires for midnight in Copenhagen starting `day` (winter: 23:00 UTC the
    day before): 100 ns steps since 1601."""
    local_midnight = datetime.fromisoformat(day) - timedelta(hours=1)
    return int((local_midnight - datetime(1601, 1, 1)).total_seconds()) * 10**7


@pytest.fixture
def env(tmp_path: Path, samba_dc: SambaDC) -> AdEnv:
    return AdEnv(tmp_path, samba_dc)


def test_new_hires_get_user_objects_with_every_contract_attribute(env, capsys):
    env.apply(capsys)
    dn, attrs = env.user("p2")
    assert dn == f"CN=aaseo,OU=people,{env.base}"
    assert "user" in attrs["objectClass"]
    assert attrs["sAMAccountName"] == ["aaseo"]
    assert attrs["userPrincipalName"] == ["aaseo@test.local"]
    assert attrs["employeeID"] == ["p2"]
    assert attrs["displayName"] == ["Åsa Østergård"]
    assert attrs["givenName"] == ["Åse"] and attrs["sn"] == ["Østergård"]
    assert attrs["title"] == ["Lærer"]
    assert attrs["department"] == ["Ærtebjerg Skole"]
    assert attrs["mail"] == ["aaseo@kolding.example"]  # the public address is secret: fallback
    assert attrs["telephoneNumber"] == ["+45 7979 1234"]
    assert attrs["userAccountControl"] == [str(ENABLED)]
    assert attrs["accountExpires"] == [str(NEVER)]  # no end date
    assert {pid: a["sAMAccountName"][0] for pid, (_, a) in env.users().items()} == {
        "p1": "soerena", "p2": "aaseo", "p3": "jensh", "p4": "jhansen", "p5": "reneel"}
    assert env.user("p1")[1]["mail"] == ["direktoer@kolding.example"]
    assert env.plan(capsys)["changes"] == []


def test_the_manager_is_the_nearest_one_up_the_tree_and_never_oneself(env, capsys):
    env.apply(capsys)
    assert env.user("p2")[1]["manager"] == [env.dn("p3")]  # p3 manages skole
    assert env.user("p3")[1]["manager"] == [env.dn("p1")]  # skole's own manager is p3
    assert env.user("p5")[1]["manager"] == [env.dn("p1")]  # born has none: root's
    assert "manager" not in env.user("p1")[1]


def test_the_objectguid_is_the_accounts_anchor_in_the_store(env, capsys):
    env.apply(capsys)
    guids = {pid: attrs["objectGUID"][0] for pid, (_, attrs) in env.users().items()}
    recorded = env.store_accounts()
    assert {pid: anchor for pid, (anchor, _, _) in recorded.items()} == guids
    assert {state for _, state, _ in recorded.values()} == {"active"}


def test_groups_are_global_security_groups_per_unit_and_managers(env, capsys):
    env.apply(capsys)
    groups = env.groups()
    assert set(groups) == UNIT_GROUPS | {"managers"}  # units with a member only
    assert {g["groupType"][0] for g in groups.values()} == {str(GLOBAL_SECURITY)}
    assert groups["aertebjerg-skole"]["sAMAccountName"] == ["aertebjerg-skole"]
    assert env.members("aertebjerg-skole") == {env.dn("p2").lower(), env.dn("p3").lower()}
    assert env.members("it-afdelingen") == {env.dn("p4").lower()}
    assert env.members("managers") == {env.dn("p1").lower(), env.dn("p3").lower()}


def test_a_new_user_binds_with_the_initial_password_from_its_0600_file(env, capsys):
    code, out, err = env.run(capsys, "apply", "--today", DAY)
    assert code == 0, out + err
    assert stat.S_IMODE((env.passwords / "aaseo").stat().st_mode) == 0o600
    password = env.password("aaseo")
    assert env.binds("aaseo")
    assert password not in out + err
    assert password.encode() not in (env.root / "store.db").read_bytes()


def test_leaving_disables_moves_and_ungroups_then_deletes_after_the_period(env, capsys):
    env.apply(capsys)
    assert env.binds("jhansen")
    guid = env.user("p4")[1]["objectGUID"]
    env.engagement("e4")["valid_to"] = "2026-11-30"  # p4 left yesterday
    env.apply(capsys)
    dn, attrs = env.user("p4")
    assert dn == f"CN=jhansen,OU=disabled,{env.base}"
    assert attrs["userAccountControl"] == [str(DISABLED)]
    assert attrs["objectGUID"] == guid
    assert "it-afdelingen" not in env.groups()  # it lost its last member
    assert all(dn.lower() not in env.members(group) for group in env.groups())
    assert not env.binds("jhansen")  # the password is right; the account is disabled
    assert env.store_accounts()["p4"][1] == "disabled"
    env.apply(capsys, LATER)
    assert "p4" not in env.users()


def test_account_expires_at_the_end_of_the_last_engagement(env, capsys):
    env.engagement("e4")["valid_to"] = "2026-12-05"
    env.apply(capsys)
    attrs = env.user("p4")[1]
    assert attrs["accountExpires"] == [str(filetime("2026-12-06"))]  # access ends on time
    assert attrs["userAccountControl"] == [str(ENABLED)]


def test_a_rehire_within_the_period_gets_the_same_account_back_enabled(env, capsys):
    env.apply(capsys)
    before_dn, before = env.user("p4")
    env.set_uac(before_dn, ENABLED | DONT_EXPIRE_PASSWORD)  # set by hand: syncd keeps it
    env.engagement("e4")["valid_to"] = "2026-12-05"
    env.apply(capsys, "2026-12-06")
    assert env.user("p4")[1]["userAccountControl"] == [str(DISABLED | DONT_EXPIRE_PASSWORD)]
    env.org["engagements"].append({"id": "e9", "person": "p4", "unit": "skole",
                                   "primary": True, "valid_from": "2026-12-10"})
    env.apply(capsys, "2026-12-10")
    dn, attrs = env.user("p4")
    assert dn == before_dn
    assert attrs["sAMAccountName"] == before["sAMAccountName"] == ["jhansen"]
    assert attrs["objectGUID"] == before["objectGUID"]
    assert attrs["userAccountControl"] == [str(ENABLED | DONT_EXPIRE_PASSWORD)]
    assert env.dn("p4").lower() in env.members("aertebjerg-skole")
    assert env.binds("jhansen")
    assert env.store_accounts()["p4"] == (before["objectGUID"][0], "active", "jhansen")


def test_a_person_on_leave_keeps_account_and_groups(env, capsys):
    env.org["leaves"] = [{"id": "l1", "person": "p2", "leave_type": "Barsel",
                          "valid_from": "2026-11-01", "valid_to": "2027-06-30"}]
    env.apply(capsys)
    dn, attrs = env.user("p2")
    assert dn == f"CN=aaseo,OU=people,{env.base}"
    assert attrs["userAccountControl"] == [str(ENABLED)]
    assert dn.lower() in env.members("aertebjerg-skole")


def test_a_foreign_account_is_untouched_and_its_names_are_not_taken(env, capsys):
    with env.dc.connection() as conn:
        conn.add(f"OU=people,{env.base}", ["organizationalUnit"])
        assert conn.add(f"CN=svc-backup,OU=people,{env.base}", ["user"], {
            "sAMAccountName": "svc-backup", "userPrincipalName": "jensh@test.local",
            "title": "by hand"}), conn.result
    foreign_dn = f"CN=svc-backup,OU=people,{env.base}"
    before = env.search("(sAMAccountName=svc-backup)")[foreign_dn]
    out = env.apply(capsys)
    assert "jensh" not in {a["sAMAccountName"][0] for _, a in env.users().values()}
    assert "not ours (left alone)" in out
    env.org["engagements"] = []  # everyone leaves, and is deleted after the period
    code, out, err = env.run(capsys, "apply", "--today", DAY, "--allow-deletes", "100")
    assert code == 0, out + err
    code, out, err = env.run(capsys, "apply", "--today", LATER, "--allow-deletes", "100")
    assert code == 0, out + err
    assert env.users() == {}
    assert env.search("(sAMAccountName=svc-backup)")[foreign_dn] == before


def test_an_account_made_ahead_of_the_first_day_is_enabled_on_it(env, capsys):
    """Pre-provisioned 10 days early (inside pre_provision_days): the account and its
    password are there, but it cannot log on before the engagement starts."""
    env.org["persons"].append({"id": "p6", "given_name": "Nina", "surname": "Berg"})
    env.org["engagements"].append({"id": "e6", "person": "p6", "unit": "it",
                                   "job_function": "Udvikler", "primary": True,
                                   "valid_from": "2026-12-11"})
    env.apply(capsys)
    attrs = env.user("p6")[1]
    assert attrs["userAccountControl"] == [str(DISABLED)] and not env.binds("ninab")
    env.apply(capsys, "2026-12-11")
    assert env.user("p6")[1]["userAccountControl"] == [str(ENABLED)]
    assert env.binds("ninab")  # the password handed over when it was made
