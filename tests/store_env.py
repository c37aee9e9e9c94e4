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


V4 = 4  # the registry had no `since`, and the org no it_users
V4_UPDATED = datetime(2026, 10, 5, 23, 30, tzinfo=UTC)


def make_v4_store(url: str) -> None:
    """Schema version 4 with an active user, a reservation and a group registered."""
    engine = create_engine(url)
    with engine.begin() as conn:
        for migration in MIGRATIONS[:V4]:
            migration(conn)
        conn.execute(meta.insert().values(key="schema_version", value=str(V4)))
        for kind, key, state, username in (("user", "p1", "active", "soerena"),
                                           ("user", "p2", "pending", "aaseo"),
                                           ("group", "units:skole", "active", "skole")):
            conn.execute(text(
                "INSERT INTO accounts (target, kind, key, locator, username, anchor, state, "
                "updated_at) VALUES ('ldap', :kind, :key, :locator, :username, :anchor, "
                ":state, :at)"),
                {"kind": kind, "key": key, "username": username, "state": state,
                 "at": V4_UPDATED, "locator": None if state == "pending" else f"cn={key}",
                 "anchor": None if state == "pending" else f"uuid-{key}"})
    engine.dispose()


def upgrade_from_v4(url: str) -> None:
    """Every registry row is kept; `since` is the day of its last update (a reservation,
    which names nothing that exists yet, has none); the org takes it_users."""
    make_v4_store(url)
    store = open_store(url)
    assert store.schema_version() == SCHEMA_VERSION
    assert set(store.accounts("ldap")) == {("user", "p1"), ("user", "p2"),
                                           ("group", "units:skole")}
    [theirs] = [u for u in store.person_it_users("p1")]
    assert (theirs["system"], theirs["username"], theirs["anchor"], theirs["state"],
            theirs["since"]) == ("ldap", "soerena", "uuid-p1", "active", date(2026, 10, 5))
    assert store.person_it_users("p2")[0]["since"] is None
    store.save_accounts([Owned("ldap", "user", "p1", "cn=p1", "soerena", "uuid-p1",
                               "disabled", date(2026, 12, 1))])
    assert store.person_it_users("p1")[0]["since"] == date(2026, 10, 5)  # kept


V5 = 5  # usernames and email addresses had no lower-case index


def make_v5_store(url: str) -> None:
    """Schema version 5 with a person, their email address and a registered user."""
    engine = create_engine(url)
    with engine.begin() as conn:
        for migration in MIGRATIONS[:V5]:
            migration(conn)
        conn.execute(meta.insert().values(key="schema_version", value=str(V5)))
        conn.execute(text("INSERT INTO org_persons (id, given_name, surname) "
                          "VALUES ('p1', 'Søren', 'Ærø')"))
        conn.execute(text("INSERT INTO org_addresses (id, owner, type, value, visibility) "
                          "VALUES ('a1', 'p1', 'email', 'Soren@Kolding.example', 'public')"))
        conn.execute(text(
            "INSERT INTO accounts (target, kind, key, locator, username, anchor, state, "
            "updated_at, since) VALUES ('ldap', 'user', 'p1', 'uid=SoerenA', 'SoerenA', "
            "'uuid-p1', 'active', :at, :since)"), {"at": V4_UPDATED, "since": date(2026, 10, 5)})
    engine.dispose()


def upgrade_from_v5(url: str) -> None:
    """The person is found by username and by email, in any case, as before the upgrade."""
    make_v5_store(url)
    store = open_store(url)
    assert store.schema_version() == SCHEMA_VERSION
    assert store.find_persons("soerena") == store.find_persons("SOREN@kolding.example") == ["p1"]
    assert store.find_persons("nobody") == []
