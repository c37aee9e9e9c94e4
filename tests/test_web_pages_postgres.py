"""The web view's store reads on PostgreSQL (Debian's, started by the test): the same
pages as on SQLite by changing store.url only; search ignores the case of Danish letters
there too."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from syncd.cycle import load_checked
from syncd.store import open_store
from syncd.testing.postgres import Postgres
from tests.test_web_pages import ADMIN, found_persons, page, section
from tests.web_env import INTERNAL, SECRETS, Site, fill_store, harness, web_config


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    folder: Path = tmp_path_factory.mktemp("web-pg")
    with Postgres() as server:
        store = open_store(server.url)
        fill_store(store)
        yield TestClient(harness(Site(store, load_checked(web_config(folder)))))
        store.close()


def test_search_on_postgresql(client: TestClient) -> None:
    for text in ("ærø", "SØREN ÆRØ", "soerenae", "SOEREN.AEROE@kolding.example"):
        assert found_persons(page(client, f"/search?q={text}")) == ["w-soeren"]
    assert found_persons(page(client, f"/search?q={INTERNAL[0]}")) == []
    assert found_persons(page(client, f"/search?q={INTERNAL[0]}", ADMIN)) == ["w-soeren"]
    assert found_persons(page(client, f"/search?q={SECRETS[1]}", ADMIN)) == []
    assert len(found_persons(page(client, "/search?q=læser&page=3"))) == 30


def test_unit_and_person_pages_on_postgresql(client: TestClient) -> None:
    unit = page(client, "/units/w-born?page=2", ADMIN)
    assert section(unit, "Members (130)").count("<tr><td>") == 30
    assert "None in this unit; inherited:" in section(unit, "Manager")
    bib = page(client, "/units/w-bib", ADMIN)
    assert "aeroeskoebing-bibliotek" in section(bib, "Groups in the targets")
    person = page(client, "/persons/w-soeren?today=2026-12-01", ADMIN)
    assert "rule: users; source record: engagements w-e1" in person
    assert "Manager: <a href=\"/persons/w-boss?today=2026-12-01\">Åse Østergård</a>" in person
    assert "Læseklub" in section(person, "Associations")
