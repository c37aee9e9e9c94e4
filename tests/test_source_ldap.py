"""The `type: ldap` source against a real slapd: OUs as units, people, roles as managers.

Names with commas and plus signs in their DNs, Danish, Greek, Cyrillic and Chinese
letters; more people than one page, read by an account the server limits to fewer
entries than that per search, so only paging reads them all.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import ldap3
import pytest

from syncd.errors import SourceError
from syncd.org import Snapshot
from syncd.sources import read_source
from syncd.sources.ldap import LdapSource
from syncd.sources.ldap.reader import _text
from syncd.store import open_store
from syncd.testing.slapd import Slapd, free_port
from tests.test_target_ldap import make_certificates

BASE = "dc=example,dc=org"
ORG = f"ou=Kolding Kommune,{BASE}"
PEOPLE = f"ou=people,{BASE}"
READER = f"cn=syncd-læser,{BASE}"
READER_PASSWORD = "Læs+Kun,Ikke=Skriv"
SIZE_LIMIT = 5  # entries per search for every account but the admin

PEOPLE_ROWS = [  # RDN, employeeNumber, givenName, sn, mail values
    ("uid=p01", "1001", "Åge", "Ørsted", ["aage@kolding.example", "aoe@kolding.example"]),
    ("cn=Hansen\\, Jens", "1002", "Jens", "Hansen", ["jens@kolding.example"]),
    ("cn=Zoë Kühn+uid=p03", "1003", "Zoë", "Kühn", []),
    ("uid=p04", "1004", "Дмитрий", "Иванов", ["dmitrij@kolding.example"]),
    ("uid=p05", "1005", "明", "李", []),
    ("uid=p06", "1006", "Νίκος", "Παπαδόπουλος", []),
    ("uid=p07", "1007", "Søren", "Ærø", []),
    ("uid=p08", "1008", "Bodil", "Bech\\+Berg", []),
]


def person_ldif(rdn: str, number: str, given: str, surname: str, mails: list[str]) -> str:
    """The entry; its RDN's values (cn, uid) are in it too, as LDAP wants."""
    rdn_values = [part.replace("\\", "").split("=", 1) for part in rdn.split("+")]
    names = {f"{kind}: {value}" for kind, value in rdn_values} | {f"cn: {given} {surname}"}
    lines = [f"dn: {rdn},{PEOPLE}", "objectClass: inetOrgPerson", *sorted(names),
             f"sn: {surname.replace(chr(92), '')}", f"givenName: {given}",
             f"employeeNumber: {number}", *(f"mail: {mail}" for mail in mails)]
    return "\n".join(lines) + "\n"


def ldif() -> str:
    people = [f"dn: {PEOPLE}\nobjectClass: organizationalUnit\nou: people\n",
              *(person_ldif(*row) for row in PEOPLE_ROWS)]
    units = [
        f"dn: {ORG}\nobjectClass: organizationalUnit\nou: Kolding Kommune\n",
        f"dn: ou=Børn\\, Unge og Familie,{ORG}\nobjectClass: organizationalUnit\n"
        "ou: Børn, Unge og Familie\n",
        f"dn: ou=Skole\\+SFO,ou=Børn\\, Unge og Familie,{ORG}\nobjectClass: organizationalUnit\n"
        "ou: Skole+SFO\n",
        f"dn: ou=Τμήμα Ελληνικών,{ORG}\nobjectClass: organizationalUnit\nou: Τμήμα Ελληνικών\n",
        f"dn: cn=Direktør,{ORG}\nobjectClass: organizationalRole\ncn: Direktør\n"
        f"roleOccupant: UID=P01,OU=People,DC=example,DC=org\n"
        "description: Budget\ndescription: Personale\n",
    ]
    reader = (f"dn: {READER}\nobjectClass: applicationProcess\nobjectClass: simpleSecurityObject\n"
              f"cn: syncd-læser\nuserPassword: {READER_PASSWORD}\n")
    return "\n".join([*units, *people, reader])


@pytest.fixture
def directory(slapd: Slapd) -> Slapd:
    slapd.load_ldif(ldif())
    slapd.modify_config(
        "dn: olcDatabase={1}mdb,cn=config\nchangetype: modify\nadd: olcLimits\n"
        f"olcLimits: users size.soft={SIZE_LIMIT} size.hard={SIZE_LIMIT} "
        "size.prtotal=unlimited\n")
    return slapd


KINDS: dict[str, Any] = {
    "units": {"base": ORG, "filter": "(objectClass=organizationalUnit)",
              "fields": {"id": "entryUUID", "name": "ou", "parent": "parent_dn"}},
    "persons": {"base": PEOPLE, "scope": "one", "filter": "(objectClass=inetOrgPerson)",
                "fields": {"id": "employeeNumber", "given_name": "givenName", "surname": "sn",
                           "nickname": "displayName"},
                "extra": {"mail": "mail", "dn": "dn"}},
    "managers": {"base": ORG, "filter": "(objectClass=organizationalRole)",
                 "fields": {"id": "cn", "person": "roleOccupant", "unit": "parent_dn",
                            "responsibilities": "description"},
                 "defaults": {"manager_type": "Direktør"}},
}


def ldap_source(url: str, tmp_path: Path, **changes: Any) -> LdapSource:
    secret = tmp_path / "ldap.secret"
    secret.write_text(READER_PASSWORD + "\n", encoding="utf-8")
    settings = {"name": "ad", "type": "ldap", "url": url, "bind_dn": READER,
                "password_file": str(secret), "page_size": 3, "kinds": KINDS, **changes}
    return LdapSource.model_validate(settings)


def entry_uuids(server: Slapd) -> dict[str, str]:
    """ou -> entryUUID, as the admin reads them."""
    connection = ldap3.Connection(server.url, server.admin_dn, server.admin_password,
                                  auto_bind=True)
    connection.search(ORG, "(objectClass=organizationalUnit)", attributes=["ou", "entryUUID"])
    found = {str(entry.ou): str(entry.entryUUID) for entry in connection.entries}
    connection.unbind()
    return found


def test_a_directory_read_in_pages_past_the_size_limit(directory, tmp_path):
    snapshot = read_source(ldap_source(directory.url, tmp_path))
    persons = snapshot.records["persons"]
    assert len(persons) == len(PEOPLE_ROWS) > SIZE_LIMIT
    by_id = {person["id"]: person for person in persons}
    assert by_id["1001"] == {"id": "1001", "given_name": "Åge", "surname": "Ørsted",
                             "extra": {"mail": "aage@kolding.example",
                                       "dn": f"uid=p01,{PEOPLE}"}}
    assert by_id["1002"]["extra"]["dn"] == f"cn=Hansen\\, Jens,{PEOPLE}"
    assert by_id["1003"]["extra"]["dn"].lower() == f"cn=zoë kühn+uid=p03,{PEOPLE}"
    assert [(by_id[n]["given_name"], by_id[n]["surname"]) for n in ("1004", "1005", "1006")] \
        == [("Дмитрий", "Иванов"), ("明", "李"), ("Νίκος", "Παπαδόπουλος")]
    assert by_id["1008"]["surname"] == "Bech+Berg"


def test_ous_become_a_unit_tree_by_their_dns_with_entryuuid_as_id(directory, tmp_path):
    units = read_source(ldap_source(directory.url, tmp_path)).records["units"]
    uuids = entry_uuids(directory)
    assert sorted(units, key=lambda unit: unit["name"]) == [
        {"id": uuids["Børn, Unge og Familie"], "name": "Børn, Unge og Familie",
         "parent": uuids["Kolding Kommune"]},
        {"id": uuids["Kolding Kommune"], "name": "Kolding Kommune", "parent": None},
        {"id": uuids["Skole+SFO"], "name": "Skole+SFO", "parent": uuids["Børn, Unge og Familie"]},
        {"id": uuids["Τμήμα Ελληνικών"], "name": "Τμήμα Ελληνικών",
         "parent": uuids["Kolding Kommune"]},
    ]


def test_a_role_names_its_person_by_dn_and_lists_its_responsibilities(directory, tmp_path):
    managers = read_source(ldap_source(directory.url, tmp_path)).records["managers"]
    assert managers == [{"id": "Direktør", "person": "1001",
                         "unit": entry_uuids(directory)["Kolding Kommune"],
                         "manager_type": "Direktør", "responsibilities": ["Budget", "Personale"]}]


def test_the_store_takes_what_the_directory_gives(directory, tmp_path):
    merged = Snapshot()
    merged.merge(read_source(ldap_source(directory.url, tmp_path)), "ad")
    result = open_store(f"sqlite:///{tmp_path / 'store.db'}").ingest(merged, "ad", 0.1)
    assert "units +4" in result.summary() and "persons +8" in result.summary()


def test_without_paging_the_size_limit_stops_the_read(directory, tmp_path):
    with pytest.raises(SourceError, match=rf"^ad: persons: search {PEOPLE} "
                                          r"\(objectClass=inetOrgPerson\): sizeLimitExceeded: "
                                          r"the answer is incomplete; set paged: true$"):
        read_source(ldap_source(directory.url, tmp_path, paged=False))


def test_a_wrong_password_is_refused_and_not_shown(directory, tmp_path):
    secret = tmp_path / "wrong.secret"
    secret.write_text("forkert-kodeord", encoding="utf-8")
    with pytest.raises(SourceError) as error:
        read_source(ldap_source(directory.url, tmp_path, password_file=str(secret)))
    assert str(error.value) == (f"ad: {directory.url}: bind as {READER}: invalid credentials; "
                                "check the password")


def test_an_unreachable_server_is_a_source_error(tmp_path):
    url = f"ldap://127.0.0.1:{free_port()}"
    with pytest.raises(SourceError, match=rf"^ad: {url}: cannot connect: "):
        read_source(ldap_source(url, tmp_path))


def test_a_base_that_does_not_exist_names_the_kind(directory, tmp_path):
    kinds = {"persons": {**KINDS["persons"], "base": f"ou=folk,{BASE}"}}
    with pytest.raises(SourceError, match=rf"^ad: persons: search ou=folk,{BASE} .*: no such "
                                          r"entry; check kinds.persons.base$"):
        read_source(ldap_source(directory.url, tmp_path, kinds=kinds))


@pytest.fixture
def tls_directory(directory: Slapd, tmp_path: Path) -> tuple[Slapd, Path]:
    ca, cert, key = make_certificates(tmp_path)
    directory.modify_config("dn: cn=config\nchangetype: modify\n" + "-\n".join(
        f"replace: {name}\n{name}: {path}\n" for name, path in [
            ("olcTLSCACertificateFile", ca), ("olcTLSCertificateFile", cert),
            ("olcTLSCertificateKeyFile", key)]))
    return directory, ca


@pytest.mark.filterwarnings("ignore:ssl.match_hostname:DeprecationWarning")  # inside ldap3
def test_start_tls_checks_the_certificate_against_tls_ca_file(tls_directory, tmp_path):
    server, ca = tls_directory
    verified = ldap_source(server.url, tmp_path, start_tls=True, tls_ca_file=str(ca))
    assert len(read_source(verified).records["persons"]) == len(PEOPLE_ROWS)
    with pytest.raises(SourceError, match=r"^ad: ldap://.*: cannot connect: .*certificate "
                                          r"verify failed"):
        read_source(ldap_source(server.url, tmp_path, start_tls=True))
    unverified = ldap_source(server.url, tmp_path, start_tls=True, tls_verify=False)
    assert len(read_source(unverified).records["persons"]) == len(PEOPLE_ROWS)


def test_an_active_directory_objectguid_reads_as_its_text_form():
    """slapd has no objectGUID; AD sends it as 16 bytes, little-endian in part."""
    guid = uuid.UUID("0f4e1d2c-3b4a-5968-7788-99aabbccddee")
    assert _text("objectguid", guid.bytes_le) == "0f4e1d2c-3b4a-5968-7788-99aabbccddee"


@pytest.mark.parametrize(("changes", "problem"), [
    ({"url": "ldap://admin:x@host"}, "credentials do not belong in the URL"),
    ({"url": "http://host"}, "must start with ldap:// or ldaps://"),
    ({"password": "hemmelig", "password_file": None}, "secrets are never inline"),
    ({"password_file": None}, "bind_dn needs exactly one of password_file or password"),
    ({"bind_dn": None}, "a password without bind_dn"),
    ({"kinds": {"persons": {"base": BASE, "filter": "objectClass=person"}}},
     "an LDAP filter is in parentheses"),
    ({"kinds": {"persons": {"base": BASE, "fields": {"uid": "uid"}}}},
     "'uid' is not a field of persons"),
    ({"kinds": {"persons": {"base": BASE, "fields": {"id": "uid", "surname": "sn"}}}},
     "kinds.persons: name the attribute of given_name in fields ({given_name: ATTRIBUTE}) "
     "or give it in defaults"),
])
def test_config_mistakes_are_refused(tmp_path, changes: dict[str, Any], problem: str):
    with pytest.raises(ValueError, match=re.escape(problem)):
        ldap_source(changes.pop("url", "ldap://127.0.0.1"), tmp_path, **changes)
