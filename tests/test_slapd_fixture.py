"""The throw-away slapd that syncd's LDAP tests run against behaves like a real server."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path

import ldap3
import pytest
from ldap3.core.exceptions import LDAPBindError, LDAPSocketOpenError

from syncd.testing.slapd import Slapd

pytest_plugins = ["tests.fixtures_slapd"]
pytestmark = pytest.mark.slapd

PEOPLE = "ou=people,dc=example,dc=org"


def admin(server: Slapd) -> ldap3.Connection:
    return ldap3.Connection(
        ldap3.Server(server.url, get_info=ldap3.NONE),
        server.admin_dn,
        server.admin_password,
        auto_bind=True,
        raise_exceptions=True,
    )


def add_people(server: Slapd, count: int) -> None:
    connection = admin(server)
    connection.add(PEOPLE, ["organizationalUnit"], {"ou": "people"})
    for n in range(count):
        connection.add(
            f"uid=user{n},{PEOPLE}",
            ["inetOrgPerson"],
            {"cn": f"User {n}", "sn": "Hansen", "employeeNumber": str(n), "mail": f"u{n}@x.dk"},
        )
    connection.unbind()


def uids(server: Slapd) -> list[str]:
    connection = admin(server)
    entries = connection.extend.standard.paged_search(
        PEOPLE, "(objectClass=inetOrgPerson)", attributes=["uid"], paged_size=3, generator=False
    )
    connection.unbind()
    return sorted(entry["attributes"]["uid"][0] for entry in entries)


def test_listens_on_loopback_on_a_free_port(slapd: Slapd) -> None:
    assert slapd.url == f"ldap://127.0.0.1:{slapd.port}"
    assert slapd.running
    with socket.create_connection(("127.0.0.1", slapd.port), timeout=2):
        pass
    with Slapd() as other:  # a second server gets a port of its own
        assert other.port != slapd.port
        directory = other.directory
    assert not directory.exists()  # a directory it made itself is removed


def test_admin_binds_and_a_wrong_password_is_refused(slapd: Slapd) -> None:
    connection = admin(slapd)
    assert connection.extend.standard.who_am_i() == f"dn:{slapd.admin_dn}"
    connection.unbind()

    wrong = ldap3.Connection(slapd.url, slapd.admin_dn, "not-the-password")
    assert not wrong.bind()
    assert wrong.result["description"] == "invalidCredentials"
    with pytest.raises(LDAPBindError):
        ldap3.Connection(slapd.url, slapd.admin_dn, "not-the-password", auto_bind=True)


def test_adds_and_pages_back_inet_org_persons(slapd: Slapd) -> None:
    add_people(slapd, 7)
    assert uids(slapd) == [f"user{n}" for n in range(7)]

    connection = admin(slapd)
    connection.search(PEOPLE, "(employeeNumber=3)", attributes=["cn", "mail", "entryUUID"])
    [entry] = connection.entries
    assert entry.cn.value == "User 3"
    assert entry.mail.value == "u3@x.dk"
    assert len(entry.entryUUID.value) == 36


def test_overlays_maintain_member_of_and_member(slapd: Slapd) -> None:
    add_people(slapd, 2)
    slapd.load_ldif(
        "dn: cn=team,dc=example,dc=org\n"
        "objectClass: groupOfNames\n"
        "cn: team\n"
        f"member: uid=user0,{PEOPLE}\n"
        f"member: uid=user1,{PEOPLE}\n"
    )
    connection = admin(slapd)
    connection.search(f"uid=user0,{PEOPLE}", "(objectClass=*)", ldap3.BASE, attributes=["memberOf"])
    assert connection.entries[0].memberOf.values == ["cn=team,dc=example,dc=org"]

    connection.modify_dn(f"uid=user0,{PEOPLE}", "uid=renamed")  # refint follows the rename
    connection.delete(f"uid=user1,{PEOPLE}")  # and drops the deleted member
    connection.search("cn=team,dc=example,dc=org", "(cn=*)", ldap3.BASE, attributes=["member"])
    assert connection.entries[0].member.values == [f"uid=renamed,{PEOPLE}"]


def test_stop_ends_the_process_and_restart_keeps_data_and_port(slapd: Slapd) -> None:
    add_people(slapd, 3)
    port, pid = slapd.port, slapd.pid
    assert pid is not None
    open_connection = admin(slapd)  # a client still connected must not block stop/restart

    slapd.stop()
    assert not slapd.running
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    with pytest.raises(LDAPSocketOpenError):
        ldap3.Connection(slapd.url, auto_bind=True)
    slapd.stop()  # stopping twice is harmless

    slapd.restart()
    assert slapd.port == port
    assert slapd.pid != pid
    assert uids(slapd) == ["user0", "user1", "user2"]
    open_connection.unbind()


def test_reads_ldapi_as_peer(slapd: Slapd) -> None:
    result = subprocess.run(
        ["ldapsearch", "-Q", "-LLL", "-Y", "EXTERNAL", "-H", slapd.ldapi_url,
         "-b", "cn=config", "-s", "base", "dn"],
        capture_output=True, text=True, check=True, env={**os.environ, "LDAPNOINIT": "1"},
    )  # fmt: skip
    assert result.stdout.strip() == "dn: cn=config"


def test_offline_bulk_load(tmp_path: Path) -> None:
    server = Slapd(tmp_path / "bulk")
    server.load_ldif_offline(
        f"dn: {PEOPLE}\nobjectClass: organizationalUnit\nou: people\n\n"
        + "".join(
            f"dn: uid=bulk{n},{PEOPLE}\nobjectClass: inetOrgPerson\nuid: bulk{n}\ncn: B\nsn: B\n\n"
            for n in range(5)
        )
    )
    with server:
        assert uids(server) == [f"bulk{n}" for n in range(5)]


def test_a_failed_start_says_why(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        server = Slapd(tmp_path / "clash", port=taken.getsockname()[1])
        started = time.monotonic()
        with pytest.raises(RuntimeError, match="Address already in use"):
            server.start()
    assert time.monotonic() - started < 2
    assert not server.running


def test_missing_slapd_is_an_error_not_a_skip(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("syncd.testing.slapd._SBIN_DIRS", ())
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(RuntimeError, match="slapd is not installed: run scripts/install-test-deps"):
        Slapd(tmp_path / "none").start()
