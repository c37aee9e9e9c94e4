"""LdapDirectory with flavour ad against a real Samba AD DC: the account lifecycle,
userAccountControl, ranged members, several DCs, protected entries."""

from __future__ import annotations

import contextlib
import json
import socket
import stat
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ldap3
import pytest
from ldap3.core.exceptions import LDAPBindError

from syncd.config import LdapTarget
from syncd.errors import BindRefused, ObjectRejected, TargetUnavailable
from syncd.objects import GROUP, USER, Entry, norm_dn
from syncd.plan.model import Action, AttrChange, Change
from syncd.targets.ldap.ad import PASSWD_NOTREQD, merge_ranges, read_rest
from syncd.targets.ldap.config import InitialPassword
from syncd.targets.ldap.directory import LdapDirectory
from syncd.targets.ldap.initial_password import deliver
from syncd.testing.samba import SambaDC
from syncd.testing.slapd import free_port

BASE = "DC=test,DC=local"
PEOPLE = f"OU=People,{BASE}"
FORMER = f"OU=Former,{BASE}"
GROUPS = f"OU=Groups,{BASE}"
SERVICE = f"OU=Service,{BASE}"
USER_CLASSES = ("top", "person", "organizationalPerson", "user")
DONT_EXPIRE_PASSWORD = 0x10000
GLOBAL_SECURITY = "-2147483646"


@pytest.fixture(scope="module")
def dc(samba_dc_fresh: SambaDC) -> SambaDC:
    admin = samba_dc_fresh.connection(raise_exceptions=True)
    for ou in (PEOPLE, FORMER, GROUPS, SERVICE):
        admin.add(ou, "organizationalUnit")
    admin.add(f"CN=svc-backup,{SERVICE}", list(USER_CLASSES), {"sAMAccountName": "svc-backup"})
    admin.unbind()
    return samba_dc_fresh


def config(dc: SambaDC, **overrides: Any) -> LdapTarget:
    fields: dict[str, Any] = {
        "name": "ad", "type": "ldap", "flavour": "ad", "url": dc.url,
        "tls_ca_file": dc.ca_file, "bind_dn": dc.admin_upn,
        "password": "${env:SYNCD_AD_PASSWORD}", "base_dn": BASE, "mapping": Path("m.yaml"),
        "timeout": 5, "retries": 0,
    }  # fmt: skip
    return LdapTarget(**{**fields, **overrides})


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return tmp_path / "passwords"


@pytest.fixture
def ad(dc: SambaDC, folder: Path) -> Iterator[LdapDirectory]:
    target = LdapDirectory(config(dc, initial_password={"deliver": "file", "folder": folder}),
                           dc.admin_password)
    yield target
    target.close()


def new_user(name: str, *, parent: str = PEOPLE, uac: str = "512") -> Change:
    return Change(Action.CREATE, USER, f"person-{name}", f"CN={name},{parent}", username=name,
                  attributes=[
                      AttrChange("objectClass", (), USER_CLASSES, multi=True),
                      AttrChange("sAMAccountName", (), (name,)),
                      AttrChange("userPrincipalName", (), (f"{name}@test.local",)),
                      AttrChange("displayName", (), (f"User {name}",)),
                      AttrChange("employeeID", (), (name[:16],)),  # at most 16 in the schema
                      AttrChange("userAccountControl", (), (uac,)),
                  ])  # fmt: skip


def account_control(dn: str, before: str, after: str, action: Action) -> Change:
    return Change(action, USER, "p", dn, attributes=[
        AttrChange("userAccountControl", (before,), (after,))])


def server(dc: SambaDC, dn: str, *attributes: str) -> dict[str, list[str]]:
    admin = dc.connection()
    try:
        if not admin.search(dn, "(objectClass=*)", ldap3.BASE, attributes=list(attributes)):
            return {}
        raw = admin.response[0]["raw_attributes"]
        return {name: [value.decode() for value in values] for name, values in raw.items()}
    finally:
        admin.unbind()


def binds(dc: SambaDC, upn: str, password: str) -> bool:
    try:
        dc.connection(upn, password).unbind()
    except LDAPBindError:
        return False
    return True


def entries(ad: LdapDirectory, *attributes: str) -> dict[str, Entry]:
    return {norm_dn(entry.locator): entry for entry in ad.read(attributes)}


def test_ad_config_gives_templates_the_domain_and_its_reference_attributes() -> None:
    target = LdapTarget(name="ad", type="ldap", flavour="ad", url="ldaps://dc1:636",
                        bind_dn="svc-syncd@corp.example.org", password="${env:P}",
                        base_dn="DC=corp,DC=example,DC=org", mapping=Path("m.yaml"))
    assert target.template_context() == {"base_dn": "DC=corp,DC=example,DC=org",
                                         "domain": "corp.example.org"}
    with pytest.raises(ValueError, match="must be the domain root"):
        LdapTarget(name="ad", type="ldap", flavour="ad", url="ldaps://dc1:636",
                   bind_dn="svc-syncd@corp.example.org", password="${env:P}",
                   base_dn="OU=Kommune,DC=corp,DC=example,DC=org", mapping=Path("m.yaml"))
    assert LdapDirectory(target, "x").capabilities.is_reference("managedBy")
    with pytest.raises(ValueError, match="initial_password is for Active Directory"):
        LdapTarget(name="o", type="ldap", url="ldap://h", bind_dn="cn=a,dc=b", password="${env:P}",
                   base_dn="dc=b", mapping=Path("m.yaml"), initial_password={"deliver": "none"})


def test_ranged_member_values_are_merged_and_the_rest_read_range_by_range() -> None:
    first = [f"CN=u{i},{PEOPLE}".encode() for i in range(1500)]
    rest = {1500: ("member;range=1500-2999", 1500, 3000), 3000: ("member;range=3000-*", 3000, 3100)}
    asked = []

    def fetch(dn: str, attributes: list[str]) -> dict[str, list[bytes]]:
        asked.append(attributes)
        start = int(attributes[0].split("=")[1].split("-")[0])
        name, low, high = rest[start]
        return {name: [f"CN=u{i},{PEOPLE}".encode() for i in range(low, high)]}

    merged, more = merge_ranges({"cn": [b"big"], "member;range=0-1499": first})
    assert merged["cn"] == [b"big"] and len(merged["member"]) == 1500
    assert more == {"member": 1500}
    merged["member"] += read_rest(fetch, "CN=big", "member", 1500)
    assert len(set(merged["member"])) == 3100
    assert asked == [["member;range=1500-*"], ["member;range=3000-*"]]
    assert merge_ranges({"member;range=0-*": [b"a"]}) == ({"member": [b"a"]}, {})


def test_a_created_user_binds_with_its_initial_password_over_ldaps(
    dc: SambaDC, ad: LdapDirectory, folder: Path
) -> None:
    change = new_user("anna")
    guid = ad.apply(change)
    password_file = folder / "anna"
    assert stat.S_IMODE(password_file.stat().st_mode) == 0o600
    password = password_file.read_text().strip()
    assert len(password) >= 20
    assert binds(dc, "anna@test.local", password)
    held = server(dc, change.locator or "", "userAccountControl", "pwdLastSet")
    assert held["userAccountControl"] == ["512"] and held["pwdLastSet"] != ["0"]
    found = entries(ad, "sAMAccountName", "userAccountControl", "objectGUID")
    entry = found[norm_dn(change.locator or "")]
    assert entry.anchor == guid and entry.first("objectGUID") == guid
    assert entry.first("userAccountControl") == "512"


def test_must_change_at_next_logon_sets_pwd_last_set_to_zero(dc: SambaDC, folder: Path) -> None:
    setting = {"deliver": "file", "folder": folder, "must_change": True}
    target = LdapDirectory(config(dc, initial_password=setting), dc.admin_password)
    target.apply(new_user("bent"))
    held = server(dc, f"CN=bent,{PEOPLE}", "userAccountControl", "pwdLastSet")
    assert held == {"userAccountControl": ["512"], "pwdLastSet": ["0"]}
    target.close()


def test_disable_and_enable_touch_only_the_disable_bit(dc: SambaDC, ad: LdapDirectory,
                                                       folder: Path) -> None:
    change = new_user("carl")
    dn = change.locator or ""
    ad.apply(change)
    password = (folder / "carl").read_text().strip()
    admin = dc.connection(raise_exceptions=True)
    admin.modify(dn, {"userAccountControl": [
        (ldap3.MODIFY_REPLACE, [str(0x200 | DONT_EXPIRE_PASSWORD)])]})  # by hand
    admin.unbind()
    assert entries(ad, "userAccountControl")[norm_dn(dn)].first("userAccountControl") == "512"

    ad.apply(account_control(dn, "512", "514", Action.DISABLE))
    assert server(dc, dn, "userAccountControl")["userAccountControl"] == [
        str(0x202 | DONT_EXPIRE_PASSWORD)]
    assert not binds(dc, "carl@test.local", password)
    assert entries(ad, "userAccountControl")[norm_dn(dn)].first("userAccountControl") == "514"

    ad.apply(account_control(dn, "514", "512", Action.ENABLE))
    assert server(dc, dn, "userAccountControl")["userAccountControl"] == [
        str(0x200 | DONT_EXPIRE_PASSWORD)]
    assert binds(dc, "carl@test.local", password)  # the password was not renewed


def test_a_moved_user_keeps_its_object_guid_and_group_memberships(
    dc: SambaDC, ad: LdapDirectory
) -> None:
    user = new_user("dora")
    guid = ad.apply(user)
    group_dn = f"CN=staff,{GROUPS}"
    ad.apply(Change(Action.CREATE, GROUP, "unit:staff", group_dn, attributes=[
        AttrChange("objectClass", (), ("top", "group"), multi=True),
        AttrChange("sAMAccountName", (), ("staff",)),
        AttrChange("groupType", (), (GLOBAL_SECURITY,)),
        AttrChange("member", (), (user.locator or "",), multi=True),
    ]))  # fmt: skip
    moved = f"CN=dora,{FORMER}"
    ad.apply(Change(Action.MOVE, USER, user.key, user.locator, new_locator=moved))
    found = entries(ad, "member", "objectGUID")
    assert found[norm_dn(moved)].anchor == guid
    assert norm_dn(user.locator or "") not in found
    assert [norm_dn(m) for m in found[norm_dn(group_dn)].get("member")] == [norm_dn(moved)]


def test_a_group_of_2000_members_is_read_whole(dc: SambaDC, ad: LdapDirectory) -> None:
    admin = dc.connection(raise_exceptions=True)
    members = [f"CN=m{i:04},{PEOPLE}" for i in range(2000)]
    for i, dn in enumerate(members):
        admin.add(dn, list(USER_CLASSES), {"sAMAccountName": f"m{i:04}"})
    group_dn = f"CN=everyone,{GROUPS}"
    admin.add(group_dn, ["top", "group"], {"sAMAccountName": "everyone",
                                          "groupType": GLOBAL_SECURITY, "member": members})
    admin.unbind()
    found = entries(ad, "member")
    assert len(found) > 2000  # paged, at most 1,000 a page
    assert {norm_dn(m) for m in found[norm_dn(group_dn)].get("member")} == {
        norm_dn(dn) for dn in members}


def test_a_simple_bind_over_plain_ldap_says_to_use_ldaps_or_start_tls(dc: SambaDC) -> None:
    target = LdapDirectory(config(dc, url=dc.plain_url), dc.admin_password)
    with pytest.raises(TargetUnavailable) as refused:
        target.read(["cn"])
    message = str(refused.value)
    assert "use an ldaps:// URL or start_tls: true" in message and "\n" not in message
    assert dc.admin_password not in message


class Silent:
    """A server that accepts connections and never answers (a hung DC)."""

    def __init__(self) -> None:
        self._socket = socket.create_server(("127.0.0.1", 0))
        self.url = f"ldaps://127.0.0.1:{self._socket.getsockname()[1]}"
        self.accepted: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        with contextlib.suppress(OSError):
            while True:
                self.accepted.append(self._socket.accept()[0])

    def close(self) -> None:
        for connection in [*self.accepted, self._socket]:
            connection.close()


@pytest.fixture
def silent() -> Iterator[Silent]:
    hung = Silent()
    yield hung
    hung.close()


def test_a_domain_controller_that_is_down_is_skipped(dc: SambaDC) -> None:
    down = f"ldaps://127.0.0.1:{free_port()}"
    target = LdapDirectory(config(dc, url=[down, dc.url]), dc.admin_password)
    assert norm_dn(f"CN=svc-backup,{SERVICE}") in entries(target, "cn")
    target.close()
    other = f"ldaps://127.0.0.1:{free_port()}"
    all_down = LdapDirectory(config(dc, url=[down, other]), dc.admin_password)
    with pytest.raises(TargetUnavailable) as raised:
        all_down.read(["cn"])
    message = str(raised.value)
    assert message.startswith(f"{down}: ") and f"; {other}: " in message
    assert message.count("Connection refused") == 2 and message.endswith("(1 attempt)")


def test_a_domain_controller_that_hangs_is_skipped(dc: SambaDC, silent: Silent) -> None:
    target = LdapDirectory(config(dc, url=[silent.url, dc.url], timeout=2), dc.admin_password)
    started = time.monotonic()
    assert norm_dn(f"CN=svc-backup,{SERVICE}") in entries(target, "cn")
    assert time.monotonic() - started < 4
    assert silent.accepted
    target.close()


def test_a_refused_bind_is_never_tried_on_the_next_domain_controller(
    dc: SambaDC, silent: Silent
) -> None:
    target = LdapDirectory(config(dc, url=[dc.url, silent.url], retries=2), "Wrong-Pass-1")
    with pytest.raises(BindRefused, match="invalid credentials") as refused:
        target.read(["cn"])
    assert str(refused.value).startswith(f"{dc.url}: bind as ")
    assert silent.url not in str(refused.value)
    assert not silent.accepted


def test_a_ranged_read_that_stops_short_is_unavailable_not_a_shorter_list() -> None:
    group = f"CN=big,{GROUPS}"
    with pytest.raises(TargetUnavailable, match=f"{group}: the server returned no member "
                                                "values from 1500 on"):
        read_rest(lambda dn, attributes: {}, group, "member", 1500)


class Crash(Exception):
    """syncd killed: nothing after it runs."""


class KilledAfterTheAdd(LdapDirectory):
    def modify_entry(self, dn: str, modifications: dict[str, list[Any]]) -> None:
        raise Crash


def recording_hook(handed: Path) -> dict[str, Any]:
    """Appends `PASSWORD USERNAME PERSON` per call to `handed`."""
    script = ("import os, sys; open(sys.argv[1], 'a').write(sys.stdin.read().strip() + ' '"
              " + os.environ['SYNCD_USERNAME'] + ' ' + os.environ['SYNCD_PERSON_ID'] + '\\n')")
    return {"deliver": "command", "command": [sys.executable, "-c", script, str(handed)]}


def handed_over(handed: Path) -> list[list[str]]:
    return [line.split(" ") for line in handed.read_text().splitlines()] if handed.exists() else []


def test_an_account_killed_after_the_add_is_finished_by_the_enable(
    dc: SambaDC, tmp_path: Path
) -> None:
    change = new_user("erik")
    dn = change.locator or ""
    with pytest.raises(Crash):
        KilledAfterTheAdd(config(dc), dc.admin_password).apply(change)
    assert server(dc, dn, "userAccountControl", "pwdLastSet") == {
        "userAccountControl": [str(0x202 | PASSWD_NOTREQD)], "pwdLastSet": ["0"]}

    handed = tmp_path / "handed"
    next_cycle = LdapDirectory(config(dc, initial_password=recording_hook(handed)),
                               dc.admin_password)
    next_cycle.apply(account_control(dn, "514", "512", Action.ENABLE))
    [(password, username, person)] = handed_over(handed)
    assert (username, person) == ("erik", "p")
    assert binds(dc, "erik@test.local", password)
    assert server(dc, dn, "userAccountControl")["userAccountControl"] == ["512"]
    found = [e for e in entries(next_cycle, "sAMAccountName").values()
             if e.first("sAMAccountName") == "erik"]
    assert len(found) == 1
    next_cycle.close()


def test_a_failed_hand_over_leaves_the_account_disabled_for_a_new_password(
    dc: SambaDC, tmp_path: Path
) -> None:
    failing = {"deliver": "command", "command": [sys.executable, "-c", "raise SystemExit(3)"]}
    change = new_user("elin")
    dn = change.locator or ""
    with pytest.raises(ObjectRejected, match="exited with status 3") as stopped:
        LdapDirectory(config(dc, initial_password=failing), dc.admin_password).apply(change)
    assert "elin" in str(stopped.value)
    held = server(dc, dn, "userAccountControl")["userAccountControl"]
    assert held == [str(0x202 | PASSWD_NOTREQD)]

    handed = tmp_path / "handed"
    next_cycle = LdapDirectory(config(dc, initial_password=recording_hook(handed)),
                               dc.admin_password)
    next_cycle.apply(account_control(dn, "514", "512", Action.ENABLE))
    [(password, _, _)] = handed_over(handed)
    assert binds(dc, "elin@test.local", password)
    next_cycle.close()


def test_a_must_change_user_disabled_and_enabled_again_keeps_its_one_password(
    dc: SambaDC, tmp_path: Path
) -> None:
    handed = tmp_path / "handed"
    setting = {**recording_hook(handed), "must_change": True}
    target = LdapDirectory(config(dc, initial_password=setting), dc.admin_password)
    change = new_user("mona")
    dn = change.locator or ""
    target.apply(change)
    assert server(dc, dn, "pwdLastSet") == {"pwdLastSet": ["0"]}
    target.apply(account_control(dn, "512", "514", Action.DISABLE))
    target.apply(account_control(dn, "514", "512", Action.ENABLE))
    assert len(handed_over(handed)) == 1
    assert server(dc, dn, "userAccountControl")["userAccountControl"] == ["512"]
    target.close()


def test_the_password_is_handed_over_only_once_the_server_holds_it(
    dc: SambaDC, tmp_path: Path
) -> None:
    seen = tmp_path / "pwdLastSet"
    script = (
        "import os, ssl, sys, ldap3\n"
        "tls = ldap3.Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=sys.argv[2])\n"
        "server = ldap3.Server(sys.argv[3], use_ssl=True, tls=tls)\n"
        "admin = ldap3.Connection(server, sys.argv[4], sys.argv[5], auto_bind=True)\n"
        "admin.search(os.environ['SYNCD_DN'], '(objectClass=*)', ldap3.BASE,"
        " attributes=['pwdLastSet'])\n"
        "open(sys.argv[1], 'w').write(str(admin.response[0]['attributes']['pwdLastSet']))\n")
    hook = {"deliver": "command", "command": [
        sys.executable, "-c", script, str(seen), str(dc.ca_file), dc.url, dc.admin_upn,
        dc.admin_password]}  # fmt: skip
    target = LdapDirectory(config(dc, initial_password=hook), dc.admin_password)
    target.apply(new_user("pia"))
    assert not seen.read_text().startswith("1601-01-01")  # pwdLastSet 0: no password yet
    target.close()


def test_a_fine_grained_password_policy_sets_the_length(dc: SambaDC, tmp_path: Path) -> None:
    pso = f"CN=long-passwords,CN=Password Settings Container,CN=System,{BASE}"
    admin = dc.connection(raise_exceptions=True)
    admin.add(pso, "msDS-PasswordSettings", {
        "msDS-PasswordSettingsPrecedence": "1", "msDS-PasswordReversibleEncryptionEnabled": "FALSE",
        "msDS-PasswordHistoryLength": "24", "msDS-PasswordComplexityEnabled": "TRUE",
        "msDS-MinimumPasswordLength": "30", "msDS-MinimumPasswordAge": "0",
        "msDS-MaximumPasswordAge": "-37108517437440", "msDS-LockoutThreshold": "0",
        "msDS-LockoutObservationWindow": "-18000000000", "msDS-LockoutDuration": "-18000000000",
        "msDS-PSOAppliesTo": f"CN=Domain Users,CN=Users,{BASE}"})  # fmt: skip
    handed = tmp_path / "handed"
    target = LdapDirectory(config(dc, initial_password=recording_hook(handed)),
                           dc.admin_password)
    try:
        target.apply(new_user("pso"))
    finally:
        admin.delete(pso)
        admin.unbind()
        target.close()
    [(password, _, _)] = handed_over(handed)
    assert len(password) >= 30
    assert binds(dc, "pso@test.local", password)


def test_the_password_hook_sees_none_of_syncds_secrets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SYNCD_AD_PASSWORD", "Bind-Secret-42")
    monkeypatch.setenv("SYNCD_HTTP_TOKEN", "Token-Secret-43")
    dumped = tmp_path / "env.json"
    script = "import json, os, sys; json.dump(dict(os.environ), open(sys.argv[1], 'w'))"
    setting = InitialPassword(deliver="command", command=[sys.executable, "-c", script,
                                                          str(dumped)])
    deliver(setting, "Initial-Pw-1", username="anna", person="p1", dn=f"CN=anna,{PEOPLE}")
    environment = json.loads(dumped.read_text())
    assert "Secret" not in dumped.read_text()
    assert set(environment) <= {"PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE",
                                "SYNCD_USERNAME", "SYNCD_PERSON_ID", "SYNCD_DN"}
    assert environment["SYNCD_USERNAME"] == "anna" and environment["SYNCD_PERSON_ID"] == "p1"


def test_a_disable_is_in_effect_even_when_another_attribute_is_refused(
    dc: SambaDC, ad: LdapDirectory
) -> None:
    change = new_user("olaf")
    dn = change.locator or ""
    ad.apply(change)
    moved = f"CN=olaf,{FORMER}"
    with pytest.raises(ObjectRejected):
        ad.apply(Change(Action.DISABLE, USER, change.key, dn, new_locator=moved, attributes=[
            AttrChange("userAccountControl", ("512",), ("514",)),
            AttrChange("telephoneNumber", (), ("1" * 65,)),  # at most 64 in the schema
        ]))  # fmt: skip
    held = server(dc, moved, "userAccountControl") or server(dc, dn, "userAccountControl")
    assert int(held["userAccountControl"][0]) & 0x2


def test_a_sam_account_name_over_20_characters_is_refused_before_the_server(
    dc: SambaDC, ad: LdapDirectory
) -> None:
    change = new_user("a" * 21)
    with pytest.raises(ObjectRejected, match=r"person person-a{21}: sAMAccountName .* has 21 "
                                             r"characters; Active Directory takes at most 20"):
        ad.apply(change)
    assert server(dc, change.locator or "") == {}
    ad.apply(new_user("b" * 20))


def test_protected_dns_and_filter_matches_are_flagged(dc: SambaDC) -> None:
    target = LdapDirectory(config(dc, protected=[SERVICE],
                                  protected_filter="(sAMAccountName=Administrator)"),
                           dc.admin_password)
    found = entries(target, "cn")
    flagged = {dn for dn, entry in found.items() if entry.protected}
    assert flagged == {norm_dn(SERVICE), norm_dn(f"CN=svc-backup,{SERVICE}"),
                       norm_dn(f"CN=Administrator,CN=Users,{BASE}")}
    target.close()
