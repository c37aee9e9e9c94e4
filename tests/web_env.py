"""The web view's test set-up: a store from the sample org with a few records every
visibility rule can be seen on, and a harness app that serves `page_routes` with the
viewer a test names (standing in for the sign-in layer, which has its own tests).

The records added to the sample org (ids `w-...`):
- a second tree (`w-forsyning`), as a source with two trees gives;
- `w-bib` Ærøskøbing Bibliotek under the root, managed by Åse Østergård (`w-boss`), with
  a public phone, an internal email and a secret email; its sub-unit `w-born` has no
  manager (inherited from w-bib) and 130 members (paging, 100 a page); `w-ny` opens in
  June 2027;
- Søren Ærø (`w-soeren`), engaged in w-bib now, before in w-born, later in the second tree;
  public email, internal email and phone, secret phone and email, a CPR number in
  `extra`; on leave, a role and an association in w-bib; an account in `ldap` and one
  disabled, and two changes recorded against them.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from syncd.cycle import Loaded, load_checked
from syncd.objects import Owned
from syncd.store import AuditEntry, Store, open_store
from syncd.testing.config import write_config
from syncd.web.pages import page_routes
from syncd.web.viewer import Viewer
from tests.conftest import REPO
from tests.test_store import ingest

SAMPLE = json.loads((REPO / "samples" / "sample-org.json").read_text(encoding="utf-8"))
DAY = date(2026, 12, 1)
CPR = "0101701234"
SECRETS = ("+45 9999 0000", "soeren.hemmelig@privat.example", "bib.hemmelig@privat.example")
INTERNAL = ("soeren.intern@kolding.example", "+45 7000 0001", "bib.intern@kolding.example")
PUBLIC_EMAIL = "soeren.aeroe@kolding.example"
VIEWER_HEADER = "X-Test-Viewer"  # name:role, set by the test as the sign-in layer would
STATIC = REPO / "syncd" / "web" / "static"
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"  # Debian's
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync")


def _address(ident: str, owner: str, kind: str, value: str, visibility: str) -> dict[str, Any]:
    return {"id": ident, "owner": owner, "type": kind, "value": value,
            "visibility": visibility}


def web_org() -> dict[str, Any]:
    org = copy.deepcopy(SAMPLE)
    org["units"] += [
        {"id": "w-forsyning", "name": "Kolding Forsyning A/S", "parent": None},
        {"id": "w-vand", "name": "Vandværket", "parent": "w-forsyning"},
        {"id": "w-bib", "name": "Ærøskøbing Bibliotek", "parent": "u-root",
         "unit_type": "Institution"},
        {"id": "w-born", "name": "Børnebiblioteket", "parent": "w-bib"},
        {"id": "w-ny", "name": "Nyt Kulturhus", "parent": "w-bib", "valid_from": "2027-06-01"},
    ]
    kids = [{"id": f"w-k{n:03}", "given_name": "Jørgen", "surname": f"Læser{n:03}"}
            for n in range(130)]
    org["persons"] += [
        {"id": "w-soeren", "given_name": "Søren", "surname": "Ærø", "nickname": "Søs",
         "extra": {"cpr": CPR}},
        {"id": "w-boss", "given_name": "Åse", "surname": "Østergård"}, *kids,
    ]
    org["engagements"] += [
        {"id": "w-e1", "person": "w-soeren", "unit": "w-bib", "job_function": "Bibliotekar",
         "primary": True, "valid_from": "2024-01-01"},
        {"id": "w-e0", "person": "w-soeren", "unit": "w-born", "job_function": "Assistent",
         "primary": True, "valid_from": "2020-01-01", "valid_to": "2023-12-31"},
        {"id": "w-e2", "person": "w-soeren", "unit": "w-vand", "job_function": "Vandtekniker",
         "valid_from": "2027-03-01"},
        {"id": "w-eb", "person": "w-boss", "unit": "w-bib", "job_function": "Leder",
         "primary": True, "valid_from": "2015-01-01"},
        *({"id": f"w-ek{n:03}", "person": kid["id"], "unit": "w-born",
           "job_function": "Frivillig", "primary": True, "valid_from": "2025-01-01"}
          for n, kid in enumerate(kids)),
    ]
    org["managers"] += [{"id": "w-m1", "person": "w-boss", "unit": "w-bib",
                         "manager_type": "Biblioteksleder"}]
    org["addresses"] += [
        _address("w-a1", "w-soeren", "email", PUBLIC_EMAIL, "public"),
        _address("w-a2", "w-soeren", "email", INTERNAL[0], "internal"),
        _address("w-a3", "w-soeren", "phone", INTERNAL[1], "internal"),
        _address("w-a4", "w-soeren", "phone", SECRETS[0], "secret"),
        _address("w-a5", "w-soeren", "email", SECRETS[1], "secret"),
        _address("w-a6", "w-bib", "phone", "+45 7979 5000", "public"),
        _address("w-a7", "w-bib", "email", INTERNAL[2], "internal"),
        _address("w-a8", "w-bib", "email", SECRETS[2], "secret"),
    ]
    org["leaves"] += [{"id": "w-l1", "person": "w-soeren", "leave_type": "Orlov",
                       "valid_from": "2026-11-01", "valid_to": "2027-01-31"}]
    org["roles"] += [{"id": "w-r1", "person": "w-soeren", "unit": "w-bib",
                      "role_type": "Tillidsrepræsentant"}]
    org["associations"] += [{"id": "w-as1", "person": "w-soeren", "unit": "w-bib",
                             "association_type": "Læseklub"}]
    return org


ACCOUNTS = [
    Owned("ldap", "user", "w-soeren", "uid=soerenae,ou=people,dc=example,dc=org", "soerenae",
          "uuid-s", "active"),
    Owned("ldap", "user", "w-boss", "uid=aaseoe,ou=disabled,dc=example,dc=org", "aaseoe",
          "uuid-b", "disabled", date(2026, 11, 20)),
    Owned("ldap", "group", "units:w-bib", "cn=aeroeskoebing-bibliotek,ou=groups,dc=example,"
          "dc=org", "aeroeskoebing-bibliotek", "uuid-g", "active"),
]


def fill_store(store: Store) -> None:
    ingest(store, web_org())
    store.save_accounts(ACCOUNTS)
    with store.recorder() as recorder:
        for action, why in (("create", "engaged in Ærøskøbing Bibliotek"),
                            ("update", "title changed")):
            recorder.record(AuditEntry(
                "ldap", "user", "w-soeren", ACCOUNTS[0].locator, action,
                [{"name": "title", "before": [], "after": ["Bibliotekar"]}], why, "users",
                "engagements w-e1", "ok"))


def web_config(folder: Path, delete_after_days: int = 30) -> Path:
    """A config with one LDAP target (never contacted: the pages read only its mapping's
    delete_after_days) and a mapping of the given lifecycle."""
    mapping = folder / "mapping.yaml"
    text = (REPO / "mappings" / "openldap.yaml").read_text(encoding="utf-8")
    mapping.write_text(text.replace("delete_after_days: 30",
                                    f"delete_after_days: {delete_after_days}"), "utf-8")
    (folder / "org.json").write_text(json.dumps(web_org()), "utf-8")
    (folder / "ldap.secret").write_text("unused")
    (folder / "ldap.secret").chmod(0o600)
    return write_config(folder, f"""\
  - name: ldap
    type: ldap
    url: ldap://127.0.0.1:9
    bind_dn: cn=admin,dc=example,dc=org
    password_file: ldap.secret
    base_dn: dc=example,dc=org
    mapping: {mapping}
    vars:
      mail_domain: kolding.example
""")


@dataclass
class State:
    """A target's state as the daemon keeps it (the fields /targets reads)."""

    last_run: datetime | None = None
    result: str | None = None
    stage: str | None = None
    error: str | None = None
    duration: float | None = None
    counts: dict[str, int] = field(default_factory=dict)
    holds: list[dict[str, Any]] = field(default_factory=list)
    held: list[dict[str, Any]] = field(default_factory=list)
    held_total: int = 0
    preview: Any = None


@dataclass
class Site:
    """What the pages read of the daemon: its store, target states and loaded config."""

    store: Store
    loaded: Loaded
    states: dict[str, State] = field(default_factory=dict)
    next_runs: dict[str, datetime] = field(default_factory=dict)
    previews: list[tuple[str, date]] = field(default_factory=list)  # asked for

    def next_run(self, name: str) -> datetime | None:
        return self.next_runs.get(name)

    def preview_soon(self, name: str, day: date) -> bool:
        self.previews.append((name, day))
        return name in self.states


class _SignedIn(BaseHTTPMiddleware):
    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint
                       ) -> Response:
        named = request.headers.get(VIEWER_HEADER)
        if named:
            name, _, role = named.partition(":")
            request.state.viewer = Viewer(name, "admin" if role == "admin" else "reader")
        return await call_next(request)


def harness(site: Site) -> Starlette:
    return Starlette(routes=[*page_routes(site), Mount("/static", StaticFiles(directory=STATIC))],
                     middleware=[Middleware(SessionMiddleware, secret_key="pages-test"),
                                 Middleware(_SignedIn)])


def make_site(folder: Path) -> Site:
    store = open_store(f"sqlite:///{folder / 'store.db'}")
    fill_store(store)
    return Site(store, load_checked(web_config(folder)))


def chromium(profile: Path, width: int = 1280, height: int = 900) -> webdriver.Chrome:
    """Debian's headless chromium with a fresh profile, talking to nothing but the test."""
    options = Options()
    options.binary_location = CHROMIUM
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile}",
                 f"--window-size={width},{height}"):
        options.add_argument(flag)
    return webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
