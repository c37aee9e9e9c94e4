"""The README's recipe for locking disabled accounts with OpenLDAP's ppolicy overlay,
against a real slapd: a disabled account cannot bind, a re-hired one can at once."""

from __future__ import annotations

import ldap3
import pytest

from tests.conftest import REPO
from tests.sync_env import SyncEnv

pytestmark = pytest.mark.slapd

RECIPE = '''  disabled_attributes:
    pwdAccountLockedTime: "000001010000Z"
  create_only:
    userPassword: "{{ 'Initial-' ~ person.id }}"
  attributes:
'''


def can_bind(env: SyncEnv, person_id: str) -> bool:
    dn = env.user(person_id)[0]
    return ldap3.Connection(ldap3.Server(env.slapd.url), dn, f"Initial-{person_id}").bind()


def _recipe_env(tmp_path, slapd) -> SyncEnv:
    """The shipped mapping with the README's ppolicy recipe in it."""
    env = SyncEnv(tmp_path, slapd)
    shipped = REPO / "mappings" / "openldap.yaml"
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(shipped.read_text(encoding="utf-8").replace("  attributes:\n", RECIPE, 1),
                       encoding="utf-8")
    env.config.write_text(env.config.read_text().replace(str(shipped), str(mapping)))
    return env


def test_disabled_accounts_are_locked_and_unlocked_on_return(tmp_path, slapd, capsys):
    slapd.enable_ppolicy()
    env = _recipe_env(tmp_path, slapd)
    assert env.apply(capsys)[0] == 0
    assert can_bind(env, "p4")

    env.org["engagements"][3]["valid_to"] = "2026-12-05"  # p4 leaves
    assert env.apply(capsys, "2026-12-06")[0] == 0
    assert "ou=disabled" in env.user("p4")[0]
    assert not can_bind(env, "p4")  # moved out of the groups and locked

    env.org["engagements"][3]["valid_to"] = None  # and comes back
    assert env.apply(capsys, "2026-12-07")[0] == 0
    assert can_bind(env, "p4")
    with env.connection() as conn:
        conn.search(env.user("p4")[0], "(objectClass=*)", attributes=["pwdAccountLockedTime"])
        assert not conn.entries[0].entry_attributes_as_dict.get("pwdAccountLockedTime")


def test_an_active_account_locked_by_failed_binds_stays_locked(tmp_path, slapd, capsys):
    """ppolicy's lockout (and an admin's lock) is not syncd's to undo: only coming back
    from disabled clears what `disabled_attributes` set."""
    policy = slapd.enable_ppolicy()
    env = _recipe_env(tmp_path, slapd)
    with env.connection() as conn:
        assert conn.modify(policy, {"pwdMaxFailure": [(ldap3.MODIFY_REPLACE, ["2"])]})
    assert env.apply(capsys)[0] == 0
    dn = env.user("p1")[0]
    for _ in range(2):
        assert not ldap3.Connection(ldap3.Server(env.slapd.url), dn, "wrong").bind()
    assert not can_bind(env, "p1")  # locked by the server itself
    for day in ("2026-12-02", "2026-12-03"):
        code, out, err = env.apply(capsys, day)
        assert code == 0, out + err
        assert not can_bind(env, "p1"), out
