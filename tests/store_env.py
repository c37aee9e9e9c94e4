"""A store as an earlier syncd left it, for upgrade tests on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import create_engine, text

from syncd.objects import Owned
from syncd.store import SCHEMA_VERSION, open_store
from syncd.store.schema import MIGRATIONS, meta

V3 = 3  # the registry knew every object by its DN (accounts.dn NOT NULL)


def make_v3_store(url: str) -> None:
    """Schema version 3 with one registered user and one audit row."""
    engine = create_engine(url)
    now = datetime.now(UTC)
    with engine.begin() as conn:
        for migration in MIGRATIONS[:V3]:
            migration(conn)
        conn.execute(meta.insert().values(key="schema_version", value=str(V3)))
        conn.execute(text(
            "INSERT INTO accounts (target, kind, key, dn, username, anchor, state, "
            "disabled_on, updated_at) VALUES ('ldap', 'user', 'p1', "
            "'uid=soerena,ou=people,dc=example,dc=org', 'soerena', 'uuid-1', 'disabled', "
            ":disabled_on, :now)"), {"disabled_on": date(2026, 11, 1), "now": now})
        conn.execute(text(
            "INSERT INTO audit (at, target, kind, key, dn, action, attributes, why, rule, "
            "source, result, message) VALUES (:now, 'ldap', 'user', 'p1', "
            "'uid=soerena,ou=people,dc=example,dc=org', 'create', '[]', 'w', 'users', '', "
            "'ok', '')"), {"now": now})
    engine.dispose()


def upgrade_from_v3(url: str) -> None:
    """`accounts.dn` becomes `locator`, which may be empty (a SCIM object before it
    exists); the rows and the audit stay as they were."""
    make_v3_store(url)
    store = open_store(url)
    assert store.schema_version() == SCHEMA_VERSION
    [(key, owned)] = store.accounts("ldap").items()
    assert key == ("user", "p1")
    assert (owned.locator, owned.username, owned.anchor, owned.state) == (
        "uid=soerena,ou=people,dc=example,dc=org", "soerena", "uuid-1", "disabled")
    assert owned.disabled_on == date(2026, 11, 1)
    assert store.taken_usernames("ldap") == {"soerena"}
    store.save_accounts([Owned("scim", "user", "p2", None, "aaseo")])  # no locator yet
    assert store.accounts("scim")[("user", "p2")].locator is None
    [audit] = store.person_audit("p1")
    assert audit["dn"] == "uid=soerena,ou=people,dc=example,dc=org"
