"""The store on PostgreSQL: the same behaviour as on SQLite, by changing store.url only.

A real PostgreSQL server (Debian's, started by the test in a temp dir on 127.0.0.1).
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from datetime import date

import psycopg
import pytest

from syncd.objects import Owned
from syncd.store import Busy, open_store
from syncd.testing.postgres import Postgres
from tests.store_env import upgrade_from_v3
from tests.sync_env import SyncEnv
from tests.test_store import ingest
from tests.test_store_failures import org_read_across_an_ingest

_databases = itertools.count()


@pytest.fixture(scope="module")
def server() -> Iterator[Postgres]:
    with Postgres() as pg:
        yield pg


@pytest.fixture
def url(server: Postgres) -> str:
    """A fresh, empty database per test."""
    name = f"t{next(_databases)}"
    with psycopg.connect(f"host=127.0.0.1 port={server.port} user=syncd dbname=postgres",
                         autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return server.url.rsplit("/", 1)[0] + f"/{name}"


def test_ingest_and_the_delta_on_postgresql(url, tiny_org):
    store = open_store(url)
    assert ingest(store, tiny_org).deltas["persons"].added == ["p1", "p2", "p3", "p4", "p5"]
    assert not ingest(store, tiny_org).changed
    tiny_org["persons"][0]["surname"] = "Østergaard"
    assert ingest(store, tiny_org).deltas["persons"].changed == ["p1"]
    org = store.org(date(2026, 12, 1))
    assert org.person("p1").surname == "Østergaard"
    assert org.manager_of("p3").id == "p1"


def test_a_reader_without_lease_sees_one_ingest_whole_on_postgresql(url, tiny_org):
    assert org_read_across_an_ingest(url, tiny_org).person("p1").surname == "Ærø"


def test_a_store_of_schema_3_is_upgraded_on_postgresql(url):
    upgrade_from_v3(url)


def test_registry_upsert_and_leases_on_postgresql(url):
    store = open_store(url)
    row = Owned("ldap", "user", "p1", "uid=a,ou=people,dc=x", "a", None, "pending")
    store.save_accounts([row])
    store.save_accounts([Owned("ldap", "user", "p1", "uid=a,ou=disabled,dc=x", "a", "u-1",
                               "disabled", date(2026, 12, 1))])
    [(key, saved)] = store.accounts("ldap").items()
    assert key == ("user", "p1")
    assert (saved.locator, saved.state, saved.anchor) == (
        "uid=a,ou=disabled,dc=x", "disabled", "u-1")
    assert store.taken_usernames("ldap") == {"a"}
    with store.lease("x"), pytest.raises(Busy, match=r"^x is held by"):
        _take_in_another_thread(store, "x")


def _take_in_another_thread(store, name: str) -> None:
    errors: list[BaseException] = []

    def run() -> None:
        try:
            with store.lease(name):
                pass
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]


@pytest.mark.slapd
def test_a_full_sync_with_the_store_on_postgresql(url, tmp_path, slapd, capsys):
    env = SyncEnv(tmp_path, slapd)
    env.config.write_text(env.config.read_text().replace("sqlite:///store.db", url))
    code, out, err = env.apply(capsys)
    assert code == 0, out + err
    assert set(env.users()) == {"p1", "p2", "p3", "p4", "p5"}
    assert env.plan(capsys)["changes"] == []
    env.org["engagements"][3]["valid_to"] = "2026-12-05"
    env.apply(capsys, "2026-12-06")
    assert env.dn("p4").startswith("uid=jhansen,ou=disabled,")
    assert env.plan(capsys, "2026-12-07")["changes"] == []
    env.apply(capsys, "2027-01-05")
    assert "p4" not in env.users()
