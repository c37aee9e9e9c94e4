"""The HTTP JSON source against a real local HR API process (tests/servers/hr_api.py)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from syncd.config import load_config
from syncd.errors import ConfigError, SourceError
from syncd.sources import read_source
from syncd.sources.http import HttpSource
from syncd.sources.http import reader as http
from syncd.store import open_store
from tests.fixtures_http import (
    BASIC_USER,
    TOKEN,
    HrApi,
    free_port,
    run_hr_api,
    secret_file,
    self_signed_cert,
)

# The API's own shape: nested names, Danish dates, its own key names.
PERSONS = [
    {"employee_id": f"10{n}", "name": {"first": first, "last": last}, "payroll_no": f"L{n}"}
    for n, (first, last) in enumerate([
        ("Søren", "Ærø"), ("Åse", "Øster"), ("Jens", "Hansen"), ("Émile", "Müller"),
        ("Bjørn", "Kjær"), ("Mette", "Frederiksen"), ("Ågot", "Lærkesø"),
    ])
]
UNITS = [
    {"id": "root", "name": "Kolding Kommune", "parent": None},
    {"id": "born", "name": "Børn og Unge", "parent": "root"},
    {"id": "skole", "name": "Ærtebjerg Skole", "parent": "born"},
]
ENGAGEMENTS = [
    {"id": f"e{n}", "employee_id": person["employee_id"], "unit_id": "skole",
     "title": "Lærer", "is_primary": True, "period": {"from": "01.08.2015", "to": None}}
    for n, person in enumerate(PERSONS)
]
DATA = {"persons": PERSONS, "units": UNITS, "engagements": ENGAGEMENTS}

KINDS = {
    "units": {},
    "persons": {"fields": {"id": "employee_id", "given_name": "name.first",
                           "surname": "name.last"},
                "extra": {"payroll": "payroll_no"}},
    "engagements": {"fields": {"person": "employee_id", "unit": "unit_id",
                               "job_function": "title", "primary": "is_primary",
                               "valid_from": "period.from", "valid_to": "period.to"},
                    "date_format": "%d.%m.%Y"},
}


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HrApi]:
    with run_hr_api(tmp_path_factory.mktemp("hr_api"), DATA) as server:
        yield server


@pytest.fixture(scope="module")
def tls_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[HrApi, Path]]:
    folder = tmp_path_factory.mktemp("hr_api_tls")
    cert, key = self_signed_cert(folder)
    with run_hr_api(folder, DATA, tls=(cert, key)) as server:
        yield server, cert


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(http, "BACKOFF", 0.01)


def source(api: HrApi, route: str, kinds: dict[str, Any] | None = None,
           **settings: Any) -> HttpSource:
    """An http source reading every kind of KINDS from `route` (e.g. "api/paged")."""
    kinds = kinds or KINDS
    config = {"name": "hr", "type": "http", "base_url": api.url,
              "bearer": {"token_file": str(api.token_file)},
              "kinds": {kind: {"path": f"{route}/{kind}", **mapping}
                        for kind, mapping in kinds.items()}}
    return HttpSource.model_validate(config | settings)


def persons_only(**mapping: Any) -> dict[str, Any]:
    return {"persons": {**KINDS["persons"], **mapping}}


def ids(records: list[dict[str, Any]]) -> list[str]:
    return [record["id"] for record in records]


def test_next_link_pagination_reads_every_record(api):
    kinds = {kind: {**mapping, "items": "data.items"} for kind, mapping in KINDS.items()}
    snapshot = read_source(source(api, "api/linked", kinds,
                                  pagination={"style": "next_link", "next_field": "links.next"}))
    assert ids(snapshot.records["persons"]) == [p["employee_id"] for p in PERSONS]
    assert ids(snapshot.records["units"]) == ["root", "born", "skole"]
    assert len(snapshot.records["engagements"]) == len(ENGAGEMENTS)
    assert snapshot.origin["persons"] == f"{api.url}/api/linked/persons"


def test_page_numbers_read_every_record_and_map_fields(api):
    kinds = {kind: {**mapping, "items": "results"} for kind, mapping in KINDS.items()}
    snapshot = read_source(source(api, "api/paged", kinds, pagination={
        "style": "page", "page_param": "page", "size_param": "size", "page_size": 2}))
    assert ids(snapshot.records["persons"]) == [p["employee_id"] for p in PERSONS]
    assert ids(snapshot.records["units"]) == ["root", "born", "skole"]
    assert snapshot.records["persons"][0] == {
        "id": "100", "given_name": "Søren", "surname": "Ærø", "extra": {"payroll": "L0"}}
    assert snapshot.records["engagements"][0] == {
        "id": "e0", "person": "100", "unit": "skole", "job_function": "Lærer",
        "primary": True, "valid_from": "2015-08-01", "valid_to": None}


def test_page_numbers_without_a_size_param_do_not_stop_at_the_servers_smaller_pages(api):
    """The server pages by 3; the default page_size (500) must not end the read at page 1."""
    snapshot = read_source(source(api, "api/paged", persons_only(items="results"),
                                  pagination={"style": "page"}))
    assert len(snapshot.records["persons"]) == len(PERSONS)


def test_server_that_ignores_the_page_param_is_caught(api):
    with pytest.raises(SourceError, match=r"page 2 repeats page 1: does the server know 'p'"):
        read_source(source(api, "api/ignores-page", persons_only(items="results"),
                           pagination={"style": "page", "page_param": "p"}))


def test_next_link_that_loops_is_caught(api):
    with pytest.raises(SourceError, match=r"next link .*/circle/persons was already read"):
        read_source(source(api, "circle", persons_only(items="items"),
                           pagination={"style": "next_link"}))


def test_endless_next_links_stop_at_the_page_cap(api, monkeypatch):
    monkeypatch.setattr(http, "MAX_PAGES", 5)
    with pytest.raises(SourceError, match=r"still paging after 5 pages"):
        read_source(source(api, "loop", persons_only(items="items"),
                           pagination={"style": "next_link"}))


def test_basic_auth(api):
    basic = {"username": BASIC_USER, "password_file": str(api.password_file)}
    snapshot = read_source(source(api, "api", persons_only(), bearer=None, basic=basic))
    assert len(snapshot.records["persons"]) == len(PERSONS)


def test_bearer_token_from_the_environment(api, monkeypatch):
    monkeypatch.setenv("HR_TOKEN", TOKEN)
    snapshot = read_source(source(api, "api", persons_only(), bearer={"token": "${env:HR_TOKEN}"}))
    assert len(snapshot.records["persons"]) == len(PERSONS)


def test_wrong_token_names_url_and_status_but_not_the_token(api, tmp_path):
    wrong = secret_file(tmp_path / "token", "wrong-secret-token-5e1b")
    with pytest.raises(SourceError) as caught:
        read_source(source(api, "api", persons_only(), bearer={"token_file": str(wrong)}))
    message = str(caught.value)
    assert f"hr: GET {api.url}/api/persons: 401 Unauthorized; check bearer.token_file" == message
    assert "wrong-secret" not in message
    assert caught.value.__cause__ is None and caught.value.__context__ is None


def test_credentials_in_base_url_are_refused_and_not_shown(api):
    base_url = api.url.replace("://", "://syncd:url-secret-9c@")
    with pytest.raises(ValidationError) as caught:
        source(api, "api", persons_only(), bearer=None, base_url=base_url)
    assert "credentials do not belong in the URL" in str(caught.value)
    assert "url-secret" not in str(caught.value.errors()[0]["msg"])


@pytest.mark.parametrize("base_url", [
    "ftp://syncd:url-secret-9c@hr.example.org/api",  # wrong scheme and a password
    "HTTPS://syncd:url-secret-9c@hr.example.org",
    "syncd:url-secret-9c@hr.example.org/api",  # no scheme at all
])
def test_credentials_are_refused_whatever_the_scheme_and_never_echoed(api, base_url):
    with pytest.raises(ValidationError) as caught:
        source(api, "api", persons_only(), bearer=None, base_url=base_url)
    messages = [error["msg"] for error in caught.value.errors()]
    assert messages == ["Value error, credentials do not belong in the URL: use bearer or basic"]


def test_validate_never_shows_a_password_in_a_wrong_scheme_url(tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text(f"""\
store: {{url: "sqlite:///{tmp_path}/store.db"}}
sources:
  - name: hr
    type: http
    base_url: ftp://syncd:url-secret-9c@hr.example.org/api
    kinds: {{persons: {{path: persons}}}}
targets: []
""", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(config)
    assert "url-secret" not in str(caught.value)
    assert f"{config}:5: sources[0].base_url: credentials do not belong in the URL" \
        in str(caught.value)


@pytest.mark.parametrize("base_url, got", [
    ("htps://hr.example.org/api?token=url-secret-9c", "got htps://"),
    ("hr.example.org/api", "got no scheme"),
])
def test_a_wrong_scheme_names_the_scheme_only(api, base_url, got):
    with pytest.raises(ValidationError) as caught:
        source(api, "api", persons_only(), base_url=base_url)
    assert [error["msg"] for error in caught.value.errors()] == [
        f"Value error, must start with http:// or https://, {got}"]


def test_a_token_in_the_query_is_in_no_log_line_or_message(api, caplog):
    kinds = persons_only(path="flaky/persons?fail=5&key=secret&token=query-secret-3f")
    with caplog.at_level(logging.DEBUG), pytest.raises(SourceError) as caught:
        read_source(source(api, "", kinds, retries=1))
    retried = [record.getMessage() for record in caplog.records if "retry 1 of 1" in
               record.getMessage()]
    assert retried and "query-secret" not in "".join(retried)
    assert "&token=***: 500 Internal Server Error" in str(caught.value)
    assert "query-secret" not in str(caught.value)


def test_json_nested_too_deeply_is_a_source_error(tmp_path):
    body = b'{"items": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    with serving(body) as url:
        config = {"name": "hr", "type": "http", "base_url": url,
                  "kinds": {"persons": {"path": "persons"}}}
        with pytest.raises(SourceError) as caught:
            read_source(HttpSource.model_validate(config))
    assert str(caught.value) == (f"hr: GET {url}/persons: the answer's JSON is nested too "
                                 "deeply to read")


@contextmanager
def serving(body: bytes) -> Iterator[str]:
    """A real local HTTP server answering every GET with `body` as JSON."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def test_missing_token_file_is_a_source_error(api, tmp_path):
    with pytest.raises(SourceError, match=r"hr: bearer.token: cannot read .*/nope: No such"):
        read_source(source(api, "api", persons_only(),
                           bearer={"token_file": str(tmp_path / "nope")}))


def test_retries_recover_from_transient_server_errors(api):
    kinds = persons_only(path="flaky/persons?fail=2&key=recover")
    snapshot = read_source(source(api, "", kinds, retries=2))
    assert len(snapshot.records["persons"]) == len(PERSONS)


def test_retries_give_up_with_the_status(api):
    kinds = persons_only(path="flaky/persons?fail=5&key=give-up")
    with pytest.raises(SourceError, match=r"/flaky/persons\?fail=5&key=\*\*\*: "
                                          r"500 Internal Server Error after 2 attempts"):
        read_source(source(api, "", kinds, retries=1))


def test_timeout_gives_a_clear_error(api):
    kinds = persons_only(path="slow/persons?delay=3")
    with pytest.raises(SourceError, match=r"no answer within 0.3s \(ReadTimeout\)"):
        read_source(source(api, "", kinds, timeout=0.3, retries=0))


def test_nothing_listening_gives_a_clear_error(api):
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(SourceError, match=rf"hr: GET {url}/api/persons: cannot connect: "
                                          r".*Connection refused"):
        read_source(source(api, "api", persons_only(), base_url=url, retries=1))


def test_not_json_names_the_content_type(api):
    with pytest.raises(SourceError, match=r"/html/persons: the answer is not JSON \(text/html"):
        read_source(source(api, "html", persons_only()))


def test_not_found_names_the_path_to_check(api):
    with pytest.raises(SourceError, match=r"/api/people: 404 Not Found; check base_url and "
                                          r"kinds.persons.path"):
        read_source(source(api, "api", persons_only(path="api/people")))


def test_a_paged_body_without_items_key_says_what_to_set(api):
    with pytest.raises(SourceError, match=r"want a list of records, got dict; set the kind's "
                                          r"items"):
        read_source(source(api, "api/paged", persons_only()))


def test_tls_to_a_plain_http_server_fails_clearly(api):
    url = api.url.replace("http://", "https://")
    with pytest.raises(SourceError, match=rf"hr: GET {url}/api/persons: TLS failed: the "
                                          r"server does not answer in TLS \(is it http://\?\)"):
        read_source(source(api, "api", persons_only(), base_url=url))


def test_tls_verification_is_on_by_default(tls_api, caplog):
    server, _cert = tls_api
    with pytest.raises(SourceError, match=r"TLS failed: CERTIFICATE_VERIFY_FAILED "
                                          r"\(self-signed certificate\); set tls_ca_file"):
        read_source(source(server, "api", persons_only()))
    assert not [r for r in caplog.records if "retry" in r.getMessage()]  # never heals


def test_tls_with_the_servers_ca_file(tls_api):
    server, cert = tls_api
    snapshot = read_source(source(server, "api", persons_only(), tls_ca_file=str(cert)))
    assert len(snapshot.records["persons"]) == len(PERSONS)


def test_tls_verify_false_skips_verification(tls_api):
    server, _cert = tls_api
    snapshot = read_source(source(server, "api", persons_only(), tls_verify=False))
    assert len(snapshot.records["persons"]) == len(PERSONS)


def test_end_to_end_into_the_store(api, tmp_path):
    kinds = {kind: {**mapping, "items": "data.items"} for kind, mapping in KINDS.items()}
    snapshot = read_source(source(api, "api/linked", kinds,
                                  pagination={"style": "next_link", "next_field": "links.next"}))
    store = open_store(f"sqlite:///{tmp_path}/s.db")
    result = store.ingest(snapshot, sources="hr", max_shrink=0.1)
    assert result.deltas["persons"].added == sorted(p["employee_id"] for p in PERSONS)
    assert result.deltas["engagements"].counts["added"] == len(ENGAGEMENTS)
    assert not store.ingest(read_source(source(api, "api", KINDS)), "hr", 0.1).changed
    store.close()
