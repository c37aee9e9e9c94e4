"""LdapDirectory against a real slapd: reads, every kind of write, refusals, outages."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ldap3
import pytest

from syncd.config import LdapTarget
from syncd.errors import ObjectRejected, TargetUnavailable
from syncd.objects import Entry
from syncd.plan.model import Action, AttrChange, Change
from syncd.targets.ldap.ad import object_guid as _guid
from syncd.targets.ldap.directory import LdapDirectory
from syncd.testing.slapd import Slapd, free_port

pytestmark = pytest.mark.slapd

BASE = "dc=example,dc=org"
PEOPLE = f"ou=people,{BASE}"
GROUPS = f"ou=groups,{BASE}"
FORMER = f"ou=former,{BASE}"
SEED = f"""\
dn: {PEOPLE}
objectClass: organizationalUnit
ou: people

dn: {GROUPS}
objectClass: organizationalUnit
ou: groups

dn: {FORMER}
objectClass: organizationalUnit
ou: former

dn: uid=soren,{PEOPLE}
objectClass: inetOrgPerson
uid: soren
cn:: U8O4cmVuIMOGcsO4
sn:: w4Zyw7g=
mail: soren@example.org
title: Clerk
telephoneNumber: +45 7979 0000

dn: uid=jens,{PEOPLE}
objectClass: inetOrgPerson
uid: jens
cn: Jens Hansen
sn: Hansen

dn: cn=staff,{GROUPS}
objectClass: groupOfNames
cn: staff
member: uid=soren,{PEOPLE}
member: uid=jens,{PEOPLE}
"""


def config(url: str, **overrides: Any) -> LdapTarget:
    fields: dict[str, Any] = {
        "name": "ldap",
        "type": "ldap",
        "url": url,
        "bind_dn": f"cn=admin,{BASE}",
        "password": "${env:SYNCD_LDAP_PASSWORD}",
        "base_dn": BASE,
        "mapping": Path("m.yaml"),
    }
    return LdapTarget(**{**fields, **overrides})


@pytest.fixture
def seeded(slapd: Slapd) -> Slapd:
    slapd.load_ldif(SEED)
    return slapd


@pytest.fixture
def directory(seeded: Slapd) -> Iterator[LdapDirectory]:
    target = LdapDirectory(config(seeded.url, timeout=5), seeded.admin_password)
    yield target
    target.close()


def by_dn(entries: list[Entry]) -> dict[str, Entry]:
    return {entry.locator.lower(): entry for entry in entries}


def server_values(server: Slapd, dn: str, attribute: str) -> list[str] | None:
    """What the server holds, read with plain ldap3 (None: no such entry)."""
    connection = ldap3.Connection(
        server.url, server.admin_dn, server.admin_password, auto_bind=True
    )
    try:
        if not connection.search(dn, "(objectClass=*)", ldap3.BASE, attributes=[attribute]):
            return None
        raw = connection.response[0]["raw_attributes"].get(attribute) or []
        return sorted(value.decode() for value in raw)
    finally:
        connection.unbind()


def user(uid: str, *extra: AttrChange) -> Change:
    attributes = [
        AttrChange("objectClass", (), ("inetOrgPerson",), multi=True),
        AttrChange("uid", (), (uid,)),
        AttrChange("cn", (), (f"User {uid}",)),
        AttrChange("sn", (), ("User",)),
        *extra,
    ]
    return Change(Action.CREATE, "user", uid, f"uid={uid},{PEOPLE}", attributes=attributes)


# -- read ------------------------------------------------------------------------------


def test_read_returns_users_groups_and_ous_keyed_as_asked(
    directory: LdapDirectory, seeded: Slapd
) -> None:
    entries = by_dn(directory.read(["cn", "MAIL", "member", "title"]))

    assert set(entries) >= {PEOPLE, GROUPS, FORMER, f"uid=soren,{PEOPLE}", f"cn=staff,{GROUPS}"}
    soren = entries[f"uid=soren,{PEOPLE}"]
    assert soren.attrs == {
        "cn": ("Søren Ærø",),
        "MAIL": ("soren@example.org",),
        "title": ("Clerk",),
        "objectClass": ("inetOrgPerson",),
    }
    assert "MAIL" not in entries[f"uid=jens,{PEOPLE}"].attrs  # lacking: simply absent
    assert set(entries[f"cn=staff,{GROUPS}"].get("member")) == {
        f"uid=soren,{PEOPLE}",
        f"uid=jens,{PEOPLE}",
    }
    assert entries[PEOPLE].attrs == {"objectClass": ("organizationalUnit",)}
    assert soren.anchor == server_values(seeded, soren.locator, "entryUUID")[0]
    assert str(uuid.UUID(soren.anchor)) == soren.anchor
    assert len({entry.anchor for entry in entries.values()}) == len(entries)


def test_an_ad_object_guid_is_read_as_its_uuid() -> None:
    # AD sends objectGUID as 16 bytes, the first three fields little-endian.
    raw = bytes.fromhex("33221100554477668899aabbccddeeff")
    assert _guid(raw) == "00112233-4455-6677-8899-aabbccddeeff"


def test_a_paged_read_returns_every_entry(slapd: Slapd) -> None:
    slapd.stop()
    slapd.load_ldif_offline(
        f"dn: {PEOPLE}\nobjectClass: organizationalUnit\nou: people\n\n"
        + "".join(
            f"dn: uid=u{n},{PEOPLE}\nobjectClass: inetOrgPerson\nuid: u{n}\ncn: U {n}\nsn: U\n\n"
            for n in range(2000)
        )
    )
    slapd.start()
    target = LdapDirectory(config(slapd.url), slapd.admin_password, page_size=300)
    try:
        entries = target.read(["uid"])
    finally:
        target.close()
    uids = {entry.first("uid") for entry in entries if entry.first("uid")}
    assert uids == {f"u{n}" for n in range(2000)}
    assert len(entries) == 2002  # the base entry, ou=people and the 2,000 people
    assert all(entry.anchor for entry in entries)


# -- writes ----------------------------------------------------------------------------


def test_create_update_and_delete(directory: LdapDirectory, seeded: Slapd) -> None:
    dn = f"uid=aase,{PEOPLE}"
    assert directory.apply(user("aase", AttrChange("title", (), ("Lærer",)))) is None
    assert server_values(seeded, dn, "title") == ["Lærer"]

    directory.apply(
        Change(
            Action.UPDATE,
            "user",
            "aase",
            dn,
            attributes=[
                AttrChange("title", ("Lærer",), ("Skoleleder",)),
                AttrChange("mail", (), ("aase@example.org",)),
            ],
        )
    )
    assert server_values(seeded, dn, "title") == ["Skoleleder"]
    assert server_values(seeded, dn, "mail") == ["aase@example.org"]

    directory.apply(
        Change(
            Action.DISABLE,
            "user",
            "soren",
            f"uid=soren,{PEOPLE}",
            attributes=[AttrChange("telephoneNumber", ("+45 7979 0000",), ())],
        )
    )
    assert server_values(seeded, f"uid=soren,{PEOPLE}", "telephoneNumber") == []

    directory.apply(Change(Action.DELETE, "user", "aase", dn))
    assert server_values(seeded, dn, "uid") is None


def test_group_members_change_by_delta(directory: LdapDirectory, seeded: Slapd) -> None:
    directory.apply(user("aase"))
    group = f"cn=staff,{GROUPS}"
    before = (f"uid=soren,{PEOPLE}", f"uid=jens,{PEOPLE}")
    after = (f"uid=soren,{PEOPLE}", f"uid=aase,{PEOPLE}")
    # A member added behind syncd's back survives: deltas, never a whole-list replace.
    other = ldap3.Connection(seeded.url, seeded.admin_dn, seeded.admin_password, auto_bind=True)
    other.modify(group, {"member": [(ldap3.MODIFY_ADD, [PEOPLE])]})
    other.unbind()

    directory.apply(
        Change(
            Action.UPDATE,
            "group",
            "staff",
            group,
            attributes=[AttrChange("member", before, after, multi=True)],
        )
    )

    assert server_values(seeded, group, "member") == sorted([*after, PEOPLE])


def test_move_to_another_ou_and_rename(directory: LdapDirectory, seeded: Slapd) -> None:
    anchors = {entry.locator: entry.anchor for entry in directory.read([])}
    moved = f"uid=soren,{FORMER}"
    directory.apply(Change(Action.MOVE, "user", "soren", f"uid=soren,{PEOPLE}", new_locator=moved))
    assert server_values(seeded, moved, "uid") == ["soren"]
    assert server_values(seeded, f"uid=soren,{PEOPLE}", "uid") is None

    renamed = f"uid=jhansen,{FORMER}"
    directory.apply(
        Change(
            Action.DISABLE,
            "user",
            "jens",
            f"uid=jens,{PEOPLE}",
            new_locator=renamed,
            attributes=[
                AttrChange("uid", ("jens",), ("jhansen",)),
                AttrChange("title", (), ("Former",)),
            ],
        )
    )
    assert server_values(seeded, renamed, "uid") == ["jhansen"]  # old RDN value deleted
    assert server_values(seeded, renamed, "title") == ["Former"]  # modified at the new DN

    after = {entry.anchor: entry.locator for entry in directory.read([])}
    assert after[anchors[f"uid=soren,{PEOPLE}"]] == moved  # the same entry, moved
    assert after[anchors[f"uid=jens,{PEOPLE}"]] == renamed
    assert server_values(seeded, f"cn=staff,{GROUPS}", "member") == [renamed, moved]  # refint


def test_rename_of_a_group_in_place_keeps_the_other_cn_values(
    directory: LdapDirectory, seeded: Slapd
) -> None:
    group, new = f"cn=staff,{GROUPS}", f"cn=personale,{GROUPS}"
    directory.apply(
        Change(
            Action.UPDATE,
            "group",
            "staff",
            group,
            new_locator=new,
            attributes=[AttrChange("cn", ("staff",), ("personale", "Personale Æ"), multi=True)],
        )
    )
    assert server_values(seeded, new, "cn") == ["Personale Æ", "personale"]


# -- refusals --------------------------------------------------------------------------


def test_a_schema_violation_is_rejected_and_the_next_change_works(
    directory: LdapDirectory, seeded: Slapd
) -> None:
    bad = user("nosn")
    bad.attributes = [a for a in bad.attributes if a.name != "sn"]
    with pytest.raises(ObjectRejected) as raised:
        directory.apply(bad)
    assert str(raised.value) == (
        f"uid=nosn,{PEOPLE}: objectClassViolation: object class 'inetOrgPerson' requires "
        "attribute 'sn'"
    )
    directory.apply(user("good"))
    assert server_values(seeded, f"uid=good,{PEOPLE}", "uid") == ["good"]


def test_other_refusals_name_the_entry_and_the_result(directory: LdapDirectory) -> None:
    directory.apply(user("twice"))
    with pytest.raises(ObjectRejected, match=rf"^uid=twice,{PEOPLE}: entryAlreadyExists"):
        directory.apply(user("twice"))
    with pytest.raises(ObjectRejected, match=rf"^{PEOPLE}: notAllowedOnNonLeaf"):
        directory.apply(Change(Action.DELETE, "ou", PEOPLE, PEOPLE))
    with pytest.raises(ObjectRejected, match=rf"^uid=ghost,{PEOPLE}: noSuchObject"):
        directory.apply(
            Change(
                Action.UPDATE,
                "user",
                "ghost",
                f"uid=ghost,{PEOPLE}",
                attributes=[AttrChange("title", (), ("x",))],
            )
        )
    with pytest.raises(ObjectRejected, match="undefinedAttributeType"):
        directory.apply(user("odd", AttrChange("noSuchAttribute", (), ("x",))))
    assert len(directory.read(["uid"])) > 0  # the connection is still fine


# -- outages ---------------------------------------------------------------------------


def test_a_wrong_password_is_unavailable_and_never_shown(seeded: Slapd) -> None:
    target = LdapDirectory(config(seeded.url), "hunter2-wrong")
    started = time.monotonic()
    with pytest.raises(TargetUnavailable) as raised:
        target.read(["cn"])
    assert str(raised.value) == f"{seeded.url}: bind as cn=admin,{BASE}: invalid credentials"
    assert "hunter2" not in repr(raised.value.__cause__) + str(raised.value.__cause__)
    assert time.monotonic() - started < 0.5  # not retried: that could lock the account


def test_nothing_listening_is_unavailable_naming_the_url() -> None:
    url = f"ldap://127.0.0.1:{free_port()}"
    target = LdapDirectory(config(url, retries=2), "secret")
    started = time.monotonic()
    with pytest.raises(TargetUnavailable) as raised:
        target.apply(user("x"))
    assert str(raised.value).startswith(f"{url}: ")
    assert "Connection refused (3 attempts)" in str(raised.value)
    assert time.monotonic() - started < 3


def test_a_restarted_server_is_reconnected_to(directory: LdapDirectory, seeded: Slapd) -> None:
    assert directory.read(["uid"])
    seeded.stop()
    started = time.monotonic()
    with pytest.raises(TargetUnavailable, match=rf"^{seeded.url}: .*Connection refused"):
        directory.read(["uid"])
    with pytest.raises(TargetUnavailable):
        directory.apply(user("meanwhile"))
    assert time.monotonic() - started < 5

    seeded.start()
    assert len(directory.read(["uid"])) == 7  # with the base entry
    seeded.restart()  # the open connection is dead now; a write reconnects too
    directory.apply(user("after"))
    assert server_values(seeded, f"uid=after,{PEOPLE}", "uid") == ["after"]


class DroppingProxy:
    """A TCP relay to slapd that, once armed, lets the next request through but drops
    the connection instead of relaying the answer: the server has applied the write and
    the client cannot know."""

    def __init__(self, port: int) -> None:
        self.target = port
        self.armed = threading.Event()
        self.dropped = 0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"ldap://127.0.0.1:{self.listener.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(("127.0.0.1", self.target))
            threading.Thread(target=self._pump, args=(client, server, False), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, True), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, answers: bool) -> None:
        try:
            while data := source.recv(65536):
                if answers and self.armed.is_set():
                    self.armed.clear()
                    self.dropped += 1
                    break
                sink.sendall(data)
        except OSError:
            pass
        for sock in (source, sink):  # shutdown, not just close: it wakes the other pump's recv
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def close(self) -> None:
        self.listener.close()


def test_a_write_whose_answer_was_lost_is_checked_not_resent(seeded: Slapd) -> None:
    proxy = DroppingProxy(seeded.port)
    target = LdapDirectory(config(proxy.url, timeout=5), seeded.admin_password)
    group, aase = f"cn=staff,{GROUPS}", f"uid=aase,{PEOPLE}"
    try:
        target.read(["cn"])  # connected and bound

        proxy.armed.set()
        target.apply(user("aase"))  # a blind resend would be entryAlreadyExists
        proxy.armed.set()  # a blind resend would be attributeOrValueExists
        target.apply(
            Change(
                Action.UPDATE,
                "group",
                "staff",
                group,
                attributes=[
                    AttrChange("member", (f"uid=jens,{PEOPLE}",), (aase,), multi=True),
                    AttrChange("description", (), ("Staff",)),
                ],
            )
        )
        proxy.armed.set()
        target.apply(Change(Action.MOVE, "user", "aase", aase, new_locator=f"uid=aase,{FORMER}"))
        proxy.armed.set()
        target.apply(Change(Action.DELETE, "user", "jens", f"uid=jens,{PEOPLE}"))
    finally:
        target.close()
        proxy.close()

    assert proxy.dropped == 4
    assert server_values(seeded, f"uid=aase,{FORMER}", "uid") == ["aase"]
    assert server_values(seeded, group, "member") == [f"uid=aase,{FORMER}", f"uid=soren,{PEOPLE}"]
    assert server_values(seeded, group, "description") == ["Staff"]
    assert server_values(seeded, f"uid=jens,{PEOPLE}", "uid") is None


# -- TLS -------------------------------------------------------------------------------


def make_certificates(folder: Path) -> tuple[Path, Path, Path]:
    """A throw-away CA, and a certificate and key for 127.0.0.1 signed by it."""
    program = shutil.which("openssl")
    if program is None:
        raise RuntimeError("openssl is not installed (Debian package openssl)")

    def openssl(command: str) -> None:
        subprocess.run([program, *command.split()], cwd=folder, check=True, capture_output=True)

    openssl("req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=ca -keyout ca.key -out ca.pem")
    openssl("req -newkey rsa:2048 -nodes -subj /CN=localhost -keyout server.key -out server.csr")
    (folder / "ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    openssl(
        "x509 -req -days 2 -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial"
        " -extfile ext -out server.pem"
    )
    return folder / "ca.pem", folder / "server.pem", folder / "server.key"


@pytest.fixture
def tls_slapd(seeded: Slapd, tmp_path: Path) -> tuple[Slapd, Path]:
    """The seeded slapd with StartTLS: a throw-away CA and a certificate for 127.0.0.1."""
    ca, cert, key = make_certificates(tmp_path)
    settings = [
        ("olcTLSCACertificateFile", ca),
        ("olcTLSCertificateFile", cert),
        ("olcTLSCertificateKeyFile", key),
    ]
    ldif = "dn: cn=config\nchangetype: modify\n" + "-\n".join(
        f"replace: {name}\n{name}: {path}\n" for name, path in settings
    )
    subprocess.run(
        ["ldapmodify", "-Q", "-Y", "EXTERNAL", "-H", seeded.ldapi_url],
        input=ldif.encode(),
        check=True,
        capture_output=True,
        env={**os.environ, "LDAPNOINIT": "1"},
    )
    return seeded, ca


@pytest.mark.filterwarnings("ignore:ssl.match_hostname:DeprecationWarning")  # inside ldap3
def test_start_tls_verifies_the_certificate(tls_slapd: tuple[Slapd, Path]) -> None:
    server, ca = tls_slapd
    verified = LdapDirectory(config(server.url, start_tls=True, tls_ca_file=ca), "secret")
    assert verified.read(["uid"])
    verified.close()

    unknown_ca = LdapDirectory(config(server.url, start_tls=True, retries=0), "secret")
    with pytest.raises(TargetUnavailable, match="certificate verify failed"):
        unknown_ca.read(["uid"])

    unverified = LdapDirectory(config(server.url, start_tls=True, tls_verify=False), "secret")
    assert unverified.read(["uid"])
    unverified.close()

    missing = LdapDirectory(
        config(server.url, start_tls=True, tls_ca_file=ca.with_name("no")), "secret"
    )
    with pytest.raises(TargetUnavailable, match=r"tls_ca_file .*no: invalid CA public key file"):
        missing.read(["uid"])


# -- member changes after a move (refint and memberof) -----------------------------------

PAYROLL = f"ou=Løn\\, Personale \\+ HR,{BASE}"  # slapd hands it back as ou=Løn\2C ... \2B HR


def move_jens_and_drop_soren(directory: LdapDirectory) -> None:
    """A plan made before the move: jens moves to the payroll OU, soren leaves staff.
    refint rewrites jens's member value when he is renamed, before the group's delta."""
    directory.apply(
        Change(Action.CREATE, "ou", PAYROLL, PAYROLL, attributes=[
            AttrChange("objectClass", (), ("organizationalUnit",), multi=True),
            AttrChange("ou", (), ("Løn, Personale + HR",)),
        ])
    )  # fmt: skip
    moved = f"uid=jens,{PAYROLL}"
    directory.apply(Change(Action.MOVE, "user", "jens", f"uid=jens,{PEOPLE}", new_locator=moved))
    before = (f"uid=soren,{PEOPLE}", f"uid=jens,{PEOPLE}")
    directory.apply(
        Change(
            Action.UPDATE,
            "group",
            "staff",
            f"cn=staff,{GROUPS}",
            attributes=[AttrChange("member", before, (moved,), multi=True)],
        )
    )


@pytest.mark.parametrize("control", ["permissive modify", "ignored"])
def test_member_changes_after_a_move_tolerate_what_refint_did(
    directory: LdapDirectory, seeded: Slapd, control: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if control == "ignored":  # as on a server that ignores the control: refused, re-read
        monkeypatch.setattr("syncd.targets.ldap.directory.MODIFY_CONTROLS", None)

    move_jens_and_drop_soren(directory)  # refused attributeOrValueExists before the fix

    members = server_values(seeded, f"cn=staff,{GROUPS}", "member")
    assert members == ["uid=jens,ou=Løn\\2C Personale \\2B HR,dc=example,dc=org"]  # soren out
    assert server_values(seeded, f"uid=soren,{PEOPLE}", "memberOf") == []
    assert server_values(seeded, f"uid=jens,{PAYROLL}", "memberOf") == [f"cn=staff,{GROUPS}"]


def test_a_rename_to_a_multi_valued_rdn_with_specials(
    directory: LdapDirectory, seeded: Slapd
) -> None:
    directory.apply(user("aase"))
    new = f"uid=Åse\\, \\#1 \\+ Co+cn=Extra,{FORMER}"
    directory.apply(
        Change(
            Action.DISABLE, "user", "aase", f"uid=aase,{PEOPLE}", new_locator=new,
            attributes=[
                AttrChange("uid", ("aase",), ("Åse, #1 + Co",)),
                AttrChange("cn", ("User aase",), ("User aase", "Extra"), multi=True),
            ],
        )
    )  # fmt: skip
    assert server_values(seeded, new, "uid") == ["Åse, #1 + Co"]  # modify_dn set both
    assert server_values(seeded, new, "cn") == ["Extra", "User aase"]


# -- what is at the URL ------------------------------------------------------------------

NOT_LDAP = Path(__file__).parent / "servers" / "not_ldap.py"


@contextlib.contextmanager
def not_ldap(*args: str) -> Iterator[str]:
    """tests/servers/not_ldap.py running on a free port; yields its host:port."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, str(NOT_LDAP), str(port), *args], stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None and process.stdout.readline().strip() == "ready"
        yield f"127.0.0.1:{port}"
    finally:
        process.kill()
        process.wait()


def test_a_web_server_at_the_url_is_not_an_ldap_server() -> None:
    with not_ldap("http") as address:
        url = f"ldap://{address}"
        target = LdapDirectory(config(url), "secret")
        started = time.monotonic()
        with pytest.raises(TargetUnavailable) as raised:
            target.read(["uid"])  # was KeyError: (1, 20), reported as a bug
    assert str(raised.value) == f"target ldap: not an LDAP server at {url}"
    assert time.monotonic() - started < 2  # not retried: it will not become LDAP


def test_an_ldap_url_at_a_tls_port_suggests_ldaps(tmp_path: Path) -> None:
    _, cert, key = make_certificates(tmp_path)
    with not_ldap("tls", str(cert), str(key)) as address:
        target = LdapDirectory(config(f"ldap://{address}"), "secret")
        with pytest.raises(TargetUnavailable) as raised:
            target.read(["uid"])
    assert str(raised.value) == (
        f"target ldap: ldap://{address} answers only in TLS: did you mean ldaps://{address}?"
    )


def test_a_missing_base_dn_lists_the_naming_contexts(seeded: Slapd) -> None:
    target = LdapDirectory(config(seeded.url, base_dn="dc=kolding,dc=dk"), "secret")
    with pytest.raises(TargetUnavailable) as raised:
        target.read(["uid"])
    target.close()
    assert str(raised.value) == (
        f"target ldap: base_dn dc=kolding,dc=dk does not exist on {seeded.url}; "
        "its naming contexts: dc=example,dc=org"
    )


def test_timeout_and_retries_come_from_the_config() -> None:
    with socket.create_server(("127.0.0.1", 0)) as silent:  # accepts, never answers
        url = f"ldap://127.0.0.1:{silent.getsockname()[1]}"
        target = LdapDirectory(config(url, timeout=1, retries=1), "secret")
        started = time.monotonic()
        with pytest.raises(TargetUnavailable, match=r"timed out \(2 attempts\)$"):
            target.read(["uid"])
    assert 2 <= time.monotonic() - started < 4  # two 1 s waits and one 0.2 s backoff
