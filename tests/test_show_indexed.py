"""`syncd show person` from the person's part of the org (`Store.org_around`): the card the
whole org gives, field by field, from a few indexed queries whatever the org's size."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, event, text

from syncd.cli import main
from syncd.errors import NotFound
from syncd.objects import Owned
from syncd.org import KINDS
from syncd.show import person_card
from syncd.store import Store, open_store
from syncd.testing.postgres import Postgres
from tests.conftest import REPO
from tests.store_env import upgrade_from_v5
from tests.test_store import ingest

SAMPLE = json.loads((REPO / "samples" / "sample-org.json").read_text(encoding="utf-8"))
TODAY, LATER = date(2026, 12, 1), date(2027, 9, 1)  # LATER: leaves over, new jobs begun
PERSONS = {
    "p-mgr-root": "the manager at the root (no manager above)",
    "p-mgr-mid": "a manager whose own manager is up the tree",
    "p-mgr-self": "the manager of their own unit",
    "p0018": "a manager of several units",
    "p-two-jobs": "two engagements in two units",
    "p-namesake-1b": "in a unit with no manager: the manager is inherited",
    "p-ended": "a leaver: every engagement over",
    "p-future-7d": "an engagement that starts later",
    "p-leave": "on leave",
    "p0003": "IT users from the sources",
    "p0062": "a role",
}
ACCOUNTS = [Owned("ldap", "user", "p-ended", "uid=endedp", "EndedP", "uuid-1", "disabled",
                  date(2026, 11, 21)),
            Owned("ldap", "user", "p-gone", "uid=gonep", "GoneP", "uuid-2", "disabled",
                  date(2026, 1, 5))]


def _sample_store(url: str) -> Store:
    store = open_store(url)
    ingest(store, SAMPLE)
    store.save_accounts(ACCOUNTS)
    return store


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("show")
    _sample_store(f"sqlite:///{folder / 'store.db'}").close()
    path = folder / "config.yaml"
    path.write_text(f"store:\n  url: sqlite:///store.db\nsources:\n  - name: hr\n"
                    f"    type: snapshot\n    path: {REPO / 'samples' / 'sample-org.json'}\n",
                    encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def store(config: Path) -> Iterator[Store]:
    opened = open_store(f"sqlite:///{config.parent / 'store.db'}", read_only=True)
    yield opened
    opened.close()


def whole_org_card(store: Store, person_id: str, day: date) -> dict[str, Any]:
    """The card as `show` made it before: from every record of the org."""
    card = person_card(store.org(day), person_id, store.person_accounts(person_id),
                       store.person_audit(person_id), store.person_it_users(person_id))
    return json.loads(json.dumps(card))


def shown(capsys: pytest.CaptureFixture[str], config: Path, name: str, day: date
          ) -> dict[str, Any]:
    code = main(["show", "person", name, "--json", "-c", str(config),
                 "--today", day.isoformat()])
    out, err = capsys.readouterr()
    assert (code, err) == (0, "")
    return json.loads(out)


def assert_same_card(found: dict[str, Any], wanted: dict[str, Any]) -> None:
    assert list(found) == list(wanted)
    for field, value in wanted.items():
        assert (field, found[field]) == (field, value)


@pytest.mark.parametrize("day", [TODAY, LATER])
@pytest.mark.parametrize("person", PERSONS)
def test_show_person_is_the_card_of_the_whole_org(config, store, capsys, person, day):
    assert_same_card(shown(capsys, config, person, day), whole_org_card(store, person, day))


@pytest.mark.parametrize("day", [TODAY, LATER])
def test_a_leaver_found_by_an_account_has_the_card_of_the_whole_org(config, store, capsys,
                                                                     day):
    assert_same_card(shown(capsys, config, "endedp", day), whole_org_card(store, "p-ended", day))


def test_the_cards_cover_what_the_persons_are_picked_for(store):
    """The sample still has what PERSONS says of each (else the comparisons prove less)."""
    org = store.org(TODAY)
    assert org.manager_of("p-mgr-root") is None and org.is_manager("p-mgr-root")
    assert len(org.managed_units("p0018")) > 1 and len(org.active_engagements("p-two-jobs")) == 2
    unit = org.primary_engagement("p-namesake-1b").unit
    assert not org.unit_managers(unit) and org.manager_of("p-namesake-1b") is not None
    assert org.engagements("p-ended") and not org.active_engagements("p-ended")
    assert org.upcoming_engagements("p-future-7d", 30) and org.leave("p-leave")
    assert org.it_users("p0003") and org.roles("p0062")


def test_a_person_gone_from_the_org_is_not_found_either_way(store):
    with pytest.raises(NotFound) as whole:
        whole_org_card(store, "p-gone", TODAY)
    with pytest.raises(NotFound) as part:
        person_card(store.org_around("p-gone", TODAY), "p-gone")
    assert str(part.value) == str(whole.value) == "no person with id 'p-gone' in the store"


def statements(store: Store, work: Any) -> list[tuple[str, Any]]:
    """The queries the store sent to the database while `work()` ran (SQLite's BEGIN
    left out)."""
    sent: list[tuple[str, Any]] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, *rest: Any) -> None:
        if statement != "BEGIN":
            sent.append((statement, parameters))

    event.listen(store.engine, "before_cursor_execute", record)
    try:
        work()
    finally:
        event.remove(store.engine, "before_cursor_execute", record)
    return sent


def test_the_part_is_read_in_as_many_queries_whoever_the_person_is(store):
    counts = {person: len(statements(store, lambda p=person: store.org_around(p, TODAY)))
              for person in [*PERSONS, "p-gone"]}
    assert set(counts.values()) == {len(KINDS) + 1}  # one per kind, one up the unit tree


def _query_plans(store: Store, sent: list[tuple[str, Any]]) -> str:
    with store.engine.connect() as conn:
        return " | ".join(str(row) for statement, parameters in sent
                          for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}",
                                                          parameters))


def test_the_part_is_read_by_index_never_by_scanning_a_table(store):
    plans = _query_plans(store, statements(store, lambda: store.org_around("p-two-jobs", TODAY)))
    assert "SEARCH org_units USING INDEX" in plans and "SCAN org_" not in plans


def test_a_username_or_email_is_found_by_index(store):
    plans = _query_plans(store, statements(store, lambda: store.find_persons("endedp")))
    assert "USING INDEX ix_accounts_username_lower" in plans
    assert "USING INDEX ix_org_addresses_value_lower" in plans


def test_a_store_of_schema_5_finds_persons_by_index_after_the_upgrade(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade_from_v5(url)
    with open_store(url).engine.connect() as conn:
        indexes = set(conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'index'"))
                      .scalars())
    assert {"ix_accounts_username_lower", "ix_org_addresses_value_lower"} <= indexes


# --- PostgreSQL: the same, where ids sort by the database's collation -----------------------


@pytest.fixture(scope="module")
def postgres() -> Iterator[Postgres]:
    with Postgres() as pg:
        yield pg


@pytest.fixture
def pg_url(postgres: Postgres, request: pytest.FixtureRequest) -> str:
    """A fresh, empty database per test."""
    name = request.node.name.removeprefix("test_")[:60]
    engine = create_engine(postgres.url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return postgres.url.rsplit("/", 1)[0] + f"/{name}"


def test_the_part_is_the_whole_orgs_card_on_postgresql(pg_url):
    store = _sample_store(pg_url)
    for person in PERSONS:
        for day in (TODAY, LATER):
            wanted = person_card(store.org(day), person)
            assert_same_card(person_card(store.org_around(person, day), person), wanted)


def test_a_store_of_schema_5_is_upgraded_on_postgresql(pg_url):
    upgrade_from_v5(pg_url)
