"""The web view's pages against a real store from the sample org (tests/web_env.py): what
each page shows, to a reader and to an admin, as of a chosen day; search and paging; and
that nobody is shown a secret value or a CPR number."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import httpx
import pytest
from starlette.testclient import TestClient

from syncd.daemon.service import Preview
from tests.web_env import (
    CPR,
    INTERNAL,
    PUBLIC_EMAIL,
    SECRETS,
    VIEWER_HEADER,
    Site,
    State,
    harness,
    make_site,
)

READER, ADMIN = "rita:reader", "alice:admin"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    made = make_site(tmp_path_factory.mktemp("web"))
    yield made
    made.store.close()


@pytest.fixture(scope="module")
def client(site: Site) -> TestClient:
    return TestClient(harness(site))


def get(client: TestClient, path: str, who: str | None = READER) -> httpx.Response:
    return client.get(path, headers={VIEWER_HEADER: who} if who else {})


def page(client: TestClient, path: str, who: str = READER) -> str:
    response = get(client, path, who)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    # CSP default-src 'self': no inline script, style or event handler
    assert not re.search(r"<script|<style|\sstyle=|\son[a-z]+=", response.text)
    return response.text


def section(html: str, heading: str) -> str:
    """The HTML of the <section> whose <h2> says `heading`."""
    for part in html.split("<section")[1:]:
        if re.search(rf"<h2[^>]*>{re.escape(heading)}", part):
            return part.split("</section>")[0]
    raise AssertionError(f"no section {heading!r} in the page")


def no_secrets(html: str) -> None:
    for value in (*SECRETS, CPR):
        assert value not in html


# --- the tree -------------------------------------------------------------------------


def test_the_tree_shows_both_roots_with_the_first_level_open(client: TestClient) -> None:
    html = page(client, "/")
    assert '<summary><a href="/units/u-root">Kolding Kommune</a>' in html
    assert '<summary><a href="/units/w-forsyning">Kolding Forsyning A/S</a>' in html
    assert html.count("<details open>") == 2  # each root open, everything under it closed
    assert '<details><summary><a href="/units/w-bib">Ærøskøbing Bibliotek</a>' in html
    assert '<li><a href="/units/w-vand">Vandværket</a></li>' in html
    assert '<form class="search" role="search" method="get" action="/search">' in html


def test_the_tree_as_of_a_day_and_its_links_keep_the_day(client: TestClient) -> None:
    assert "Nyt Kulturhus" not in page(client, "/?today=2026-12-01")
    later = page(client, "/?today=2027-07-01")
    assert '<a href="/units/w-ny?today=2027-07-01">Nyt Kulturhus</a>' in later
    assert 'value="2027-07-01"' in later  # the date picker shows the day


def test_a_day_that_is_no_date_is_refused(client: TestClient) -> None:
    assert get(client, "/?today=1.12.2026").status_code == 400


# --- a unit ---------------------------------------------------------------------------


def test_a_unit_page_for_a_reader(client: TestClient) -> None:
    html = page(client, "/units/w-bib?today=2026-12-01")
    assert '<li><a href="/units/u-root?today=2026-12-01">Kolding Kommune</a></li>' in html
    manager = section(html, "Manager")
    assert "Åse Østergård</a>, Biblioteksleder" in manager
    members = section(html, "Members (2)")
    assert re.search(r"Søren Ærø</a></td><td>Bibliotekar</td>", members)
    assert "Børnebiblioteket" in section(html, "Sub-units (1)")
    contacts = section(html, "Contact details")
    assert "+45 7979 5000" in contacts
    assert INTERNAL[2] not in html and "public</span>" not in contacts
    assert "Læseklub" in section(html, "Associations")
    assert "Tillidsrepræsentant" not in html  # roles are for admins (personal data)
    assert "Groups in the targets" not in html
    no_secrets(html)


def test_a_unit_page_for_an_admin_has_internal_details_and_the_groups(
        client: TestClient) -> None:
    html = page(client, "/units/w-bib", ADMIN)
    assert INTERNAL[2] in section(html, "Contact details")
    groups = section(html, "Groups in the targets")
    assert "<td>ldap</td><td>aeroeskoebing-bibliotek</td>" in groups
    assert "Tillidsrepræsentant" in section(html, "Roles")
    assert "cn=aeroeskoebing-bibliotek,ou=groups,dc=example,dc=org" in groups
    assert "active since" in groups
    no_secrets(html)


def test_a_unit_without_a_manager_shows_the_inherited_one(client: TestClient) -> None:
    manager = section(page(client, "/units/w-born"), "Manager")
    assert "None in this unit; inherited:" in manager
    assert "Åse Østergård</a>, manager of <a href=\"/units/w-bib\">Ærøskøbing Bibliotek" \
        in manager


def test_members_come_a_hundred_a_page(client: TestClient) -> None:
    first = section(page(client, "/units/w-born?today=2026-12-01"), "Members (130)")
    assert first.count("<tr><td>") == 100
    assert "Læser000</a></td><td>Frivillig</td>" in first
    assert '<a rel="next" href="/units/w-born?today=2026-12-01&amp;page=2">' in first
    second = section(page(client, "/units/w-born?today=2026-12-01&page=2"), "Members (130)")
    assert second.count("<tr><td>") == 30
    assert "Læser129" in second and "Læser099" not in second
    assert 'rel="next"' not in second and 'rel="prev"' in second


# --- a person -------------------------------------------------------------------------


def test_a_person_page_for_a_reader(client: TestClient) -> None:
    html = page(client, "/persons/w-soeren?today=2026-12-01")
    assert "Søren Ærø" in html and "“Søs”" in html
    assert 'Manager: <a href="/persons/w-boss?today=2026-12-01">Åse Østergård</a>' in html
    engagements = section(html, "Engagements")
    rows = re.findall(r'<tr class="(\w+)">(.*?)</tr>', engagements, re.S)
    assert [(when, "Børnebiblioteket" in row or "Ærøskøbing" in row or "Vandværket" in row)
            for when, row in rows] == [("past", True), ("current", True), ("future", True)]
    assert "Åse Østergård" in rows[1][1]  # the manager of each engagement
    # leave and roles (a union representative) are personal data beyond the address book
    assert "Orlov" not in html and "Tillidsrepræsentant" not in html
    assert "Læseklub" in section(html, "Associations")
    assert PUBLIC_EMAIL in section(html, "Contact details")
    for value in INTERNAL[:2]:
        assert value not in html
    for admins_only in ("Accounts in the targets", "soerenae", "Last changes"):
        assert admins_only not in html
    no_secrets(html)


def test_a_person_page_for_an_admin(client: TestClient) -> None:
    html = page(client, "/persons/w-soeren", ADMIN)
    contacts = section(html, "Contact details")
    assert PUBLIC_EMAIL in contacts and INTERNAL[0] in contacts and INTERNAL[1] in contacts
    accounts = section(html, "Accounts in the targets")
    assert "<td>soerenae</td><td class=\"dn\">uid=soerenae,ou=people,dc=example,dc=org</td>" \
        in accounts
    assert "active since" in accounts
    changes = section(html, "Last changes to the accounts")
    assert "ldap: create" in changes and "ldap: update" in changes
    assert "rule: users; source record: engagements w-e1" in changes
    assert changes.index("update") < changes.index("create")  # newest first
    no_secrets(html)


def test_a_disabled_account_says_when_it_is_deleted(client: TestClient) -> None:
    accounts = section(page(client, "/persons/w-boss?today=2026-12-01", ADMIN),
                       "Accounts in the targets")
    assert "disabled since 2026-11-20, to be deleted on 2026-12-20" in accounts  # 30 days
    later = section(page(client, "/persons/w-boss?today=2027-01-05", ADMIN),
                    "Accounts in the targets")
    assert "disabled since 2026-11-20, due for deletion since 2026-12-20" in later


def test_a_person_as_of_a_later_day(client: TestClient) -> None:
    html = page(client, "/persons/w-soeren?today=2027-04-01")
    rows = re.findall(r'<tr class="(\w+)">', section(html, "Engagements"))
    assert rows == ["past", "current", "current"]
    assert "on leave" not in html  # over at the end of January


def test_unknown_ids_are_404(client: TestClient) -> None:
    assert get(client, "/persons/nobody").status_code == 404
    assert get(client, "/units/nowhere", ADMIN).status_code == 404


def test_a_page_without_a_signed_in_viewer_shows_nothing(client: TestClient) -> None:
    response = get(client, "/persons/w-soeren", None)
    assert response.status_code == 401
    assert "Søren" not in response.text


# --- search ---------------------------------------------------------------------------


def found_persons(html: str) -> list[str]:
    return re.findall(r'<a href="/persons/([^"?]+)', section(html, "Persons"))


def test_search_by_name_in_any_case_with_danish_letters(client: TestClient) -> None:
    for text in ("ærø", "SØREN ÆRØ", "søs"):
        assert found_persons(page(client, f"/search?q={text}")) == ["w-soeren"]


def test_search_by_username_and_public_email(client: TestClient) -> None:
    assert found_persons(page(client, "/search?q=SOERENAE")) == ["w-soeren"]
    assert found_persons(page(client, f"/search?q={PUBLIC_EMAIL.upper()}")) == ["w-soeren"]


def test_an_internal_email_is_found_by_admins_only_and_a_secret_one_by_nobody(
        client: TestClient) -> None:
    assert found_persons(page(client, f"/search?q={INTERNAL[0]}")) == []
    assert found_persons(page(client, f"/search?q={INTERNAL[0]}", ADMIN)) == ["w-soeren"]
    for who in (READER, ADMIN):
        assert found_persons(page(client, f"/search?q={SECRETS[1]}", who)) == []


def test_a_reader_finds_a_person_by_a_whole_username_only(client: TestClient) -> None:
    assert found_persons(page(client, "/search?q=SOERENAE")) == ["w-soeren"]
    assert found_persons(page(client, "/search?q=soerena")) == []  # no guessing letters
    assert found_persons(page(client, "/search?q=soerena", ADMIN)) == ["w-soeren"]


def test_a_page_number_past_every_list_is_a_400_not_a_500(client: TestClient) -> None:
    for path in ("/units/w-bib?page=99999999999999999999", "/search?q=a&page=1000001"):
        response = get(client, path)
        assert response.status_code == 400 and "page must be at most" in response.text


def test_search_finds_units_by_name(client: TestClient) -> None:
    units = section(page(client, "/search?q=ÆRØSKØBING BIB&today=2026-12-01"), "Units")
    assert re.findall(r'href="/units/([^"?]+)', units) == ["w-bib"]
    assert "/units/w-bib?today=2026-12-01" in units
    both = section(page(client, "/search?q=BIBLIOTEK"), "Units")
    assert {"w-born", "w-bib"} <= set(re.findall(r'href="/units/([^"?]+)', both))


def test_search_results_come_fifty_a_page(client: TestClient) -> None:
    first = page(client, "/search?q=læser")
    assert len(found_persons(first)) == 50
    assert '<a rel="next" href="/search?q=l%C3%A6ser&amp;page=2">' in first
    third = page(client, "/search?q=læser&page=3")
    assert len(found_persons(third)) == 30 and 'rel="next"' not in third


# --- targets --------------------------------------------------------------------------


def test_targets_are_for_admins_only(client: TestClient) -> None:
    assert get(client, "/targets").status_code == 403
    assert "Targets" not in page(client, "/")  # no link to it either


def test_targets_show_the_last_cycle_and_what_a_guard_holds(
        client: TestClient, site: Site) -> None:
    held = {"action": "disable", "kind": "user", "key": "w-boss",
            "locator": "uid=aaseoe,ou=people,dc=example,dc=org", "username": "aaseoe",
            "why": "no engagement today", "attributes": [
                {"name": "memberOf", "before": ["cn=a"], "after": [], "add": [],
                 "remove": ["cn=a"]}]}
    site.states["ldap"] = State(result="guarded", counts={"disable": 120, "held": 120},
                                holds=[{"name": "deletes", "value": 120.0, "limit": 50.0,
                                        "tripped": True, "detail": ""}],
                                held=[held], held_total=120)
    html = page(client, "/targets", ADMIN)
    assert '<span class="tag tag-guarded">guarded</span>' in html
    assert "<strong>deletes</strong>: 120 over the limit of 50" in html
    assert "120 change(s) held back" in html
    assert "the first 1 of 120" in html
    assert "<strong>disable</strong> user aaseoe" in html and "− cn=a" in html
    assert "Next run" in html


def test_the_next_cycles_changes_are_planned_on_request_and_shown(
        client: TestClient, site: Site) -> None:
    site.states["ldap"] = State(result="success")
    assert "Not planned yet" in page(client, "/targets", ADMIN)
    assert client.post("/targets/preview?today=2027-01-04", data={"target": "ldap"},
                       headers={VIEWER_HEADER: READER}).status_code == 403
    asked = client.post("/targets/preview?today=2027-01-04", data={"target": "ldap"},
                        headers={VIEWER_HEADER: ADMIN}, follow_redirects=False)
    assert asked.status_code == 303 and asked.headers["location"] == "/targets?today=2027-01-04"
    assert site.previews == [("ldap", date(2027, 1, 4))]
    assert client.post("/targets/preview", data={"target": "nope"},
                       headers={VIEWER_HEADER: ADMIN}).status_code == 404

    day, now = date(2027, 1, 4), datetime(2027, 1, 4, 9, 30, tzinfo=UTC)
    site.states["ldap"].preview = Preview(day, now)
    assert "Planning for 2027-01-04" in page(client, "/targets", ADMIN)
    site.states["ldap"].preview = Preview(
        day, now, done=now, summary={"create": 1, "disable": 0}, total=1,
        changes=[{"action": "create", "kind": "user", "key": "p9", "username": "nyansat",
                  "locator": "uid=nyansat,ou=people,dc=example,dc=org", "attributes": []}])
    html = page(client, "/targets", ADMIN)
    assert "<strong>1 change(s)</strong> (create 1)" in html
    assert "<strong>create</strong> user nyansat" in html


def test_static_files_are_served(client: TestClient) -> None:
    response = get(client, "/static/syncd.css")
    assert response.status_code == 200 and "@media (max-width" in response.text


def test_every_template_is_valid_utf8_with_a_charset() -> None:
    templates = Path(__file__).resolve().parent.parent / "syncd" / "web" / "templates"
    base = (templates / "base.html").read_text(encoding="utf-8")
    assert '<meta charset="utf-8">' in base and 'name="viewport"' in base
