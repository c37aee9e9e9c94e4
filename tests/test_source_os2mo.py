"""The os2mo source against a real GraphQL server built from OS2mo's v29 schema, with a
real OAuth2 token endpoint, through the real command line (`syncd ingest` in a child
process), compared record by record with the equivalent snapshot."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import ldap3
import pytest

from syncd.store import open_store
from syncd.store.orgview import load_records
from syncd.testing.os2mo import Os2moServer
from syncd.testing.slapd import Slapd
from tests.conftest import REPO
from tests.fixtures_http import self_signed_cert
from tests.fixtures_os2mo import StartOs2mo
from tests.os2mo_data import Built, build


def source_yaml(server: Os2moServer, secret: Path | None = None, **keys: Any) -> str:
    lines = [f"  - name: mo\n    type: os2mo\n    url: {server.url}\n    version: 29\n"
             f"    token_url: {server.token_url}\n    client_id: syncd\n"
             f"    client_secret_file: {secret or server.secret_file()}\n"]
    lines += [f"    {key}: {json.dumps(value)}\n" for key, value in keys.items()]
    return "".join(lines)


def write_config(folder: Path, sources: str, targets: str = "", name: str = "config.yaml",
                 store: str = "store.db") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / name
    config.write_text(f"store:\n  url: sqlite:///{store}\nlogging:\n  level: debug\n"
                      f"safety:\n  source_max_shrink: 1.0\n  max_delete_ratio: 1.0\n"
                      f"sources:\n{sources}" + (f"targets:\n{targets}" if targets else ""),
                      encoding="utf-8")
    return config


def syncd(config: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "syncd", *argv, "-c", str(config)],
                          capture_output=True, text=True, cwd=REPO, timeout=300)


def stored(path: Path) -> dict[str, list[Any]]:
    """Every record of the store, by kind, in id order."""
    store = open_store(f"sqlite:///{path}", read_only=True)
    with store.engine.connect() as conn:
        return {kind: sorted(records, key=lambda r: r.id)
                for kind, records in load_records(conn).items()}


def ingest_both(tmp_path: Path, server: Os2moServer, built: Built, **keys: Any
                ) -> tuple[dict[str, list[Any]], dict[str, list[Any]]]:
    """The store from the os2mo source, and the store from the equivalent snapshot."""
    mo = syncd(write_config(tmp_path, source_yaml(server, **keys)), "ingest")
    assert mo.returncode == 0, mo.stderr
    snapshot = built.write_snapshot(tmp_path / "equivalent.json")
    sources = f"  - name: mo\n    type: snapshot\n    path: {snapshot}\n"
    expected = syncd(write_config(tmp_path, sources, name="expected.yaml", store="expected.db"),
                     "ingest")
    assert expected.returncode == 0, expected.stderr
    return stored(tmp_path / "store.db"), stored(tmp_path / "expected.db")


def assert_same_records(got: dict[str, list[Any]], want: dict[str, list[Any]]) -> None:
    for kind, records in want.items():
        assert records, f"the test data has no {kind}"
        assert len(got[kind]) == len(records), kind
        for found, expected in zip(got[kind], records, strict=True):
            assert found == expected, kind


@pytest.mark.parametrize(("short_pages", "page_size"), [(False, 1000), (True, 17)])
def test_ingest_gives_the_store_of_the_equivalent_snapshot(
        tmp_path: Path, start_os2mo: StartOs2mo, short_pages: bool, page_size: int) -> None:
    """OS2mo's answers may be short or empty before the end: only a null cursor ends."""
    built = build(date.today())
    server = start_os2mo(built.data, short_pages=short_pages)
    got, want = ingest_both(tmp_path, server, built, page_size=page_size)
    assert_same_records(got, want)
    pages = server.stats()["pages"]
    assert pages["SyncdPersons"] > 897 // page_size


def test_token_renewed_when_it_expires_mid_read(tmp_path: Path,
                                                 start_os2mo: StartOs2mo) -> None:
    """Keycloak's tokens come without a refresh token: a new one is asked for before the
    old one expires, and the read goes on."""
    built = build(date.today(), persons=150)
    server = start_os2mo(built.data, token_lifetime=2, delay=0.05, short_pages=True)
    got, want = ingest_both(tmp_path, server, built, page_size=25, token_leeway=1)
    assert_same_records(got, want)
    stats = server.stats()
    assert stats["tokens"] >= 2
    assert stats["refused"] == 0


def test_expired_token_is_refused_by_the_test_server(tmp_path: Path,
                                                     start_os2mo: StartOs2mo) -> None:
    """The renewal test means something: a client that keeps its token past expiry (no
    leeway, tokens of a second, slow pages) is refused."""
    built = build(date.today(), persons=30)
    server = start_os2mo(built.data, token_lifetime=1, delay=0.6)
    result = syncd(write_config(tmp_path, source_yaml(server, page_size=5,
                                                       token_leeway=0)), "ingest")
    assert result.returncode == 1
    assert "401 Unauthorized: OS2mo refused the token" in result.stderr
    assert "query Syncd" in result.stderr


def test_wrong_secret_names_the_token_url_not_the_secret(tmp_path: Path,
                                                         start_os2mo: StartOs2mo) -> None:
    server = start_os2mo(build(date.today(), persons=5).data)
    wrong = server.secret_file("wrong.secret", "guessed-secret-9f1b")
    result = syncd(write_config(tmp_path, source_yaml(server, wrong)), "ingest")
    assert result.returncode == 1
    assert f"{server.token_url} refused client syncd: unauthorized_client" in result.stderr
    assert "client_secret_file" in result.stderr
    assert "guessed-secret-9f1b" not in result.stderr


def test_refused_field_is_named_with_query_collection_and_page(
        tmp_path: Path, start_os2mo: StartOs2mo) -> None:
    """A client without the role for a field gets a GraphQL error for it, as OS2mo gives."""
    server = start_os2mo(build(date.today(), persons=5).data, refuse=("Employee.cpr_number",))
    result = syncd(write_config(tmp_path, source_yaml(server, cpr=True)), "ingest")
    assert result.returncode == 1
    assert "query SyncdPersons (persons), page 1" in result.stderr
    assert "field cpr_number (persons.objects.0.validities.0.cpr_number)" in result.stderr
    assert "Traceback" not in result.stderr


def test_tls_verified_against_tls_ca_file(tmp_path: Path, start_os2mo: StartOs2mo) -> None:
    cert, key = self_signed_cert(tmp_path)
    built = build(date.today(), persons=5)
    server = start_os2mo(built.data, tls=(cert, key))
    unknown = syncd(write_config(tmp_path / "unknown", source_yaml(server)), "ingest")
    assert unknown.returncode == 1
    assert "TLS failed: CERTIFICATE_VERIFY_FAILED" in unknown.stderr
    assert "set tls_ca_file" in unknown.stderr
    trusted = syncd(write_config(tmp_path / "trusted", source_yaml(server, tls_ca_file=str(
        cert))), "ingest")
    assert trusted.returncode == 0, trusted.stderr


@pytest.mark.parametrize("cpr", [False, True])
def test_cpr_number_only_in_extra_when_asked_for_and_never_shown(
        tmp_path: Path, start_os2mo: StartOs2mo, cpr: bool) -> None:
    built = build(date.today(), persons=40, cpr=cpr)
    server = start_os2mo(built.data)
    config = write_config(tmp_path, source_yaml(server, cpr=cpr))
    ingest = syncd(config, "ingest")
    assert ingest.returncode == 0, ingest.stderr
    person = built.snapshot["persons"][0]["id"]
    show = syncd(config, "show", "person", person, "--json")
    validate = syncd(config, "validate", "--json")
    said = ingest.stderr + show.stdout + show.stderr + validate.stdout + validate.stderr
    assert json.loads(show.stdout)
    kept = {r.id: (r.extra or {}).get("cpr") for r in stored(tmp_path / "store.db")["persons"]}
    database = (tmp_path / "store.db").read_bytes()
    for number in built.cprs:
        assert number not in said
        assert (number.encode() in database) is cpr
    assert all(kept.values()) if cpr else not any(kept.values())


@pytest.mark.slapd
def test_apply_to_slapd_from_os2mo(tmp_path: Path, start_os2mo: StartOs2mo,
                                   slapd: Slapd) -> None:
    built = build(date.today(), persons=60)
    server = start_os2mo(built.data)
    secret = tmp_path / "ldap.secret"
    secret.write_text(slapd.admin_password, encoding="utf-8")
    secret.chmod(0o600)
    target = (f"  - name: ldap\n    type: ldap\n    url: {slapd.url}\n"
              f"    bind_dn: {slapd.admin_dn}\n    password_file: {secret}\n"
              f"    base_dn: {slapd.base_dn}\n"
              f"    mapping: {REPO / 'mappings' / 'openldap.yaml'}\n"
              f"    vars:\n      mail_domain: kolding.example\n")
    result = syncd(write_config(tmp_path, source_yaml(server), target), "apply")
    assert result.returncode == 0, result.stderr
    entries = _people(slapd)
    engaged, titles = _engaged_today(built)
    assert len(engaged) > 30
    assert set(entries) == engaged
    for person, title in titles.items():
        assert entries[person][0] == title
    assert all(mail.endswith("@kolding.example") for _, mail in entries.values())
    again = syncd(write_config(tmp_path, source_yaml(server), target), "plan",
                  "--detailed-exitcode")
    assert again.returncode == 0, again.stdout + again.stderr


def _people(slapd: Slapd) -> dict[str, tuple[str, str]]:
    """person id -> (title, mail) of each entry under ou=people."""
    with ldap3.Connection(ldap3.Server(slapd.url), slapd.admin_dn, slapd.admin_password,
                          auto_bind=True) as conn:
        conn.search(f"ou=people,{slapd.base_dn}", "(employeeNumber=*)",
                    attributes=["employeeNumber", "title", "mail"])
        return {str(e.employeeNumber): (str(e.title), str(e.mail)) for e in conn.entries}


def _engaged_today(built: Built) -> tuple[set[str], dict[str, str]]:
    """Who has an engagement active today or starting within the example mapping's
    pre-provision window (14 days), and the job function of each one's primary one."""
    today, engaged, titles = date.today(), set(), {}
    for item in built.snapshot["engagements"]:
        first = date.fromisoformat(item["valid_from"])
        last = date.fromisoformat(item["valid_to"]) if item["valid_to"] else date.max
        if (first - today).days <= 14 and last >= today:
            engaged.add(item["person"])
            if item["primary"]:
                titles[item["person"]] = item["job_function"]
    return engaged, titles


def test_an_object_withheld_without_validities_fails_the_read_naming_it(
        tmp_path: Path, start_os2mo: StartOs2mo) -> None:
    """OS2mo serves what a client's policy hides as an object with no intervals: taking
    it for ended would look like leavers."""
    built = build(date.today(), persons=5)
    withheld = built.data["engagements"][0]["uuid"]
    server = start_os2mo(built.data, withhold=(withheld,))
    result = syncd(write_config(tmp_path, source_yaml(server)), "ingest")
    assert result.returncode == 1
    assert "query SyncdEngagements (engagements), page 1" in result.stderr
    assert f"object {withheld} came without its validity intervals" in result.stderr
    assert "Traceback" not in result.stderr


def test_tls_ca_file_is_trusted_beside_the_system_cas(tmp_path: Path, start_os2mo: StartOs2mo,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """A server signed by a CA of the system's store is still trusted where tls_ca_file
    names another (OpenSSL's SSL_CERT_FILE stands in for the system's store)."""
    system_cert, system_key = self_signed_cert(_folder(tmp_path / "system"))
    private_cert, _ = self_signed_cert(_folder(tmp_path / "private"))
    monkeypatch.setenv("SSL_CERT_FILE", str(system_cert))
    server = start_os2mo(build(date.today(), persons=5).data, tls=(system_cert, system_key))
    result = syncd(write_config(tmp_path / "run", source_yaml(
        server, tls_ca_file=str(private_cert))), "ingest")
    assert result.returncode == 0, result.stderr


def _folder(path: Path) -> Path:
    path.mkdir(parents=True)
    return path


def test_validate_reports_a_missing_tls_ca_file(tmp_path: Path, start_os2mo: StartOs2mo) -> None:
    server = start_os2mo(build(date.today(), persons=5).data)
    missing = tmp_path / "no-such-ca.pem"
    result = syncd(write_config(tmp_path, source_yaml(server, tls_ca_file=str(missing))),
                   "validate")
    assert result.returncode != 0
    assert f"sources[0].tls_ca_file: {missing}: no such file or folder" in (
        result.stdout + result.stderr)
