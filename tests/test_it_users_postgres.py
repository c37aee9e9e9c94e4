"""IT users in a store on PostgreSQL: the same behaviour as on SQLite (test_it_users.py)."""

from __future__ import annotations

from tests.store_env import upgrade_from_v4
from tests.test_it_users import bad_references_refused, it_users_in_the_org, since_set_once
from tests.test_store_postgres import server, url  # noqa: F401 - the fixtures


def test_it_users_with_bad_references_are_refused_on_postgresql(url, tiny_org):  # noqa: F811
    bad_references_refused(url, tiny_org)


def test_it_users_valid_on_the_day_on_postgresql(url, tiny_org):  # noqa: F811
    it_users_in_the_org(url, tiny_org)


def test_since_is_set_once_on_postgresql(url):  # noqa: F811
    since_set_once(url)


def test_a_store_of_schema_4_is_upgraded_on_postgresql(url):  # noqa: F811
    upgrade_from_v4(url)
