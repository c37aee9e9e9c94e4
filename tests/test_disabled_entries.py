"""A disabled entry's managed attributes are what the mapping says for a disabled account."""

from __future__ import annotations

import ldap3
import pytest

from tests.conftest import REPO
from tests.sync_env import SyncEnv

pytestmark = pytest.mark.slapd


@pytest.fixture
def env(tmp_path, slapd) -> SyncEnv:
    return SyncEnv(tmp_path, slapd)


def _disable_p2(env: SyncEnv, capsys) -> str:
    """p2 (a teacher whose manager is p3) leaves; returns the disabled entry's DN."""
    code, out, _ = env.apply(capsys)
    assert code == 0, out
    assert env.user("p2")[1]["manager"] == [env.user("p3")[0]]
    env.org["engagements"][1]["valid_to"] = "2026-12-05"
    code, out, _ = env.apply(capsys, "2026-12-06")
    assert code == 0, out
    return env.user("p2")[0]


def _set(env: SyncEnv, dn: str, **attributes: str) -> None:
    with env.connection() as conn:
        assert conn.modify(dn, {name: [(ldap3.MODIFY_REPLACE, [value])]
                                for name, value in attributes.items()}), conn.result


def test_disabling_drops_the_manager_and_keeps_the_last_known_data(env, capsys):
    dn = _disable_p2(env, capsys)
    attrs = env.user("p2")[1]
    assert "ou=disabled" in dn.lower()
    assert "manager" not in attrs  # a leaver reports to no one
    assert attrs["title"] == ["Lærer"] and attrs["ou"] == ["Ærtebjerg Skole"]
    assert attrs["cn"] == ["Åse Østergård"]


@pytest.mark.parametrize("org_change", ["still in the store", "gone from the store"])
def test_a_stale_manager_on_a_disabled_entry_is_repaired_by_the_next_cycle(env, capsys,
                                                                           org_change):
    dn = _disable_p2(env, capsys)
    if org_change == "gone from the store":
        env.org["persons"] = [p for p in env.org["persons"] if p["id"] != "p2"]
        env.org["engagements"] = [e for e in env.org["engagements"] if e["person"] != "p2"]
        env.org["addresses"] = [a for a in env.org["addresses"] if a["owner"] != "p2"]
        assert env.apply(capsys, "2026-12-07")[0] == 0
    stale = f"uid=nobody-any-more,ou=people,{env.base}"
    _set(env, dn, manager=stale, title="Hacked")  # refint raced the manager's own move
    code, out, err = env.apply(capsys, "2026-12-08")
    assert code == 0, out + err
    attrs = env.user("p2")[1]
    assert "manager" not in attrs
    assert "applied 1 change(s)" in out
    assert attrs["title"] == ["Hacked"]  # a leaver's value is not syncd's to rewrite
    assert attrs["cn"] == ["Åse Østergård"]


def test_a_leavers_data_going_neither_blanks_nor_rewrites_the_entry(env, capsys):
    code, out, _ = env.apply(capsys)
    assert code == 0, out
    before = {person: env.user(person)[1] for person in ("p1", "p2")}
    assert before["p1"]["mail"] == ["direktoer@kolding.example"]
    assert before["p2"]["telephoneNumber"] == ["+45 7979 1234"]
    for engagement in env.org["engagements"][:2]:  # p1 and p2 leave ...
        engagement["valid_to"] = "2026-12-05"
        engagement["job_function"] = None  # ... and HR clears what they were
    env.org["addresses"] = [a for a in env.org["addresses"] if a["id"] not in ("a1", "a2")]
    code, out, err = env.apply(capsys, "2026-12-06")
    assert code == 0, out + err
    for person in ("p1", "p2"):
        dn, attrs = env.user(person)
        assert "ou=disabled" in dn.lower()
        assert attrs == {name: value for name, value in before[person].items()
                         if name != "manager"}, out


def test_a_disabled_entry_gets_a_value_where_it_has_none(env, capsys):
    dn = _disable_p2(env, capsys)
    with env.connection() as conn:
        assert conn.modify(dn, {"title": [(ldap3.MODIFY_DELETE, [])]}), conn.result
    code, out, err = env.apply(capsys, "2026-12-07")
    assert code == 0, out + err
    assert env.user("p2")[1]["title"] == ["Lærer"]


def test_a_rehire_loses_what_only_disabled_accounts_have(env, capsys, tmp_path):
    shipped = (REPO / "mappings" / "openldap.yaml").read_text(encoding="utf-8")
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(shipped.replace("  attributes:\n    cn:", "  disabled_attributes:\n"
                                       "    description: \"left on {{ disabled_on }}\"\n"
                                       "  attributes:\n    cn:", 1), encoding="utf-8")
    env.config.write_text(env.config.read_text().replace(
        str(REPO / "mappings" / "openldap.yaml"), str(mapping)))
    _disable_p2(env, capsys)
    assert env.user("p2")[1]["description"] == ["left on 2026-12-06"]
    env.org["engagements"].append({"id": "e9", "person": "p2", "unit": "skole",
                                   "primary": True, "valid_from": "2026-12-10"})
    code, out, _ = env.apply(capsys, "2026-12-10")
    assert code == 0, out
    dn, attrs = env.user("p2")
    assert "ou=people" in dn.lower() and "description" not in attrs
