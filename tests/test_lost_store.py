"""A lost store: groups and OUs syncd made carry a marker, so they are re-adopted."""

from __future__ import annotations

import subprocess
import sys

import pytest

from syncd.objects import GROUP, OU
from syncd.store import open_store
from tests.conftest import REPO
from tests.sync_env import DAY, SyncEnv

pytestmark = pytest.mark.slapd
SHIPPED = REPO / "mappings" / "openldap.yaml"


@pytest.fixture
def env(tmp_path, slapd) -> SyncEnv:
    return SyncEnv(tmp_path, slapd)


def _lose_the_store(env: SyncEnv, how: str) -> None:
    store = env.root / "store.db"
    if how == "deleted":
        store.unlink()
    else:
        store.write_bytes(b"")


def _apply(env: SyncEnv, day: str = DAY) -> tuple[int, str]:
    """One `syncd apply` process, as cron runs it: an in-process run would keep the
    SQLite file it opened, and the lost one would linger under the new one."""
    env.write_org()
    done = subprocess.run([sys.executable, "-m", "syncd", "apply", "-c", str(env.config),
                           "--today", day], capture_output=True, text=True, timeout=120)
    return done.returncode, done.stdout + done.stderr


def _registered(env: SyncEnv, kind: str) -> set[str]:
    store = open_store(f"sqlite:///{env.root / 'store.db'}")
    try:
        return {key for k, key in store.accounts("ldap") if k == kind}
    finally:
        store.close()


def _use_mapping(env: SyncEnv, text: str) -> None:
    mapping = env.root / "mapping.yaml"
    mapping.write_text(text, encoding="utf-8")
    config = env.config.read_text()
    env.config.write_text(config.replace(str(SHIPPED), str(mapping)))


def test_groups_carry_their_marker(env):
    assert _apply(env)[0] == 0
    found = env.search("(cn=aertebjerg-skole)", f"ou=groups,{env.base}")
    [attrs] = found.values()
    assert attrs["businessCategory"] == ["syncd:ldap:group:units:skole"]


@pytest.mark.parametrize("how", ["deleted", "zero-length"])
def test_after_a_lost_store_groups_are_readopted_and_a_leaver_leaves_them(env, how):
    assert _apply(env)[0] == 0
    groups = _registered(env, GROUP)
    _lose_the_store(env, how)
    code, out = _apply(env)
    assert code == 0, out
    assert (f"note: the store has no record of {len(groups)} object(s) syncd created in this "
            "target (marked businessCategory=syncd:...); re-adopting them") in out
    assert "does not own" not in out
    assert _registered(env, GROUP) == groups
    code, out = _apply(env)
    assert code == 0 and "note: the store" not in out  # said once, when it happened
    p2, p4 = env.dn("p2"), env.dn("p4")
    env.org["engagements"][1]["valid_to"] = "2026-12-05"  # p2 shares a group with p3
    env.org["engagements"][3]["valid_to"] = "2026-12-05"  # p4 is all of it-afdelingen
    code, out = _apply(env, "2026-12-06")
    assert code == 0, out
    assert p2 not in env.members("aertebjerg-skole") and env.members("aertebjerg-skole")
    assert env.members("it-afdelingen") == set()  # its last member left: deleted
    assert p4 not in env.members("managers")


def test_groups_made_before_the_marker_get_it_on_the_next_cycle(env):
    shipped = SHIPPED.read_text(encoding="utf-8")
    _use_mapping(env, shipped.replace("    anchor: businessCategory", "    # no anchor"))
    assert _apply(env)[0] == 0
    assert "businessCategory" not in next(iter(env.search("(cn=managers)").values()))
    _use_mapping(env, shipped)
    code, out = _apply(env)
    assert code == 0, out
    [attrs] = env.search("(cn=managers)").values()
    assert attrs["businessCategory"] == ["syncd:ldap:group:managers:managers"]


OU_TREE = ('\nou_tree: {under: ou=units, rdn: "ou={{ unit.name | dn_escape }}", '
           'anchor: businessCategory}\n')


def test_after_a_lost_store_ou_tree_ous_are_readopted_and_deleted_when_unwanted(env):
    _use_mapping(env, SHIPPED.read_text(encoding="utf-8") + OU_TREE)
    assert _apply(env)[0] == 0
    it_ou = f"ou=IT-afdelingen,ou=Kolding Kommune,ou=units,{env.base}"
    assert env.search("(objectClass=organizationalUnit)", it_ou)[it_ou]["businessCategory"] == [
        "syncd:ldap:ou:it"]
    ous = _registered(env, OU)
    _lose_the_store(env, "deleted")
    code, out = _apply(env)
    assert code == 0, out
    assert _registered(env, OU) == ous
    env.org["units"] = [u for u in env.org["units"] if u["id"] != "it"]
    env.org["engagements"] = [e for e in env.org["engagements"] if e["person"] != "p4"]
    env.org["persons"] = [p for p in env.org["persons"] if p["id"] != "p4"]
    assert _apply(env, "2027-02-01")[0] == 0  # p4 disabled, then deleted
    code, out = _apply(env, "2027-03-15")
    assert code == 0, out
    assert it_ou not in env.search("(objectClass=organizationalUnit)")


def test_a_foreign_ou_where_the_tree_wants_one_is_left_unmarked(env):
    with env.connection() as conn:
        conn.add(f"ou=units,{env.base}", "organizationalUnit")
        conn.add(f"ou=Kolding Kommune,ou=units,{env.base}", "organizationalUnit")
    _use_mapping(env, SHIPPED.read_text(encoding="utf-8") + OU_TREE)
    assert _apply(env)[0] == 0
    found = env.search("(&(objectClass=organizationalUnit)(ou=Kolding Kommune))")
    assert [attrs.get("businessCategory") for attrs in found.values()] == [None]


def _add(env: SyncEnv, rdn: str, classes: list[str], **attributes: str) -> str:
    dn = f"{rdn},{env.base}"
    with env.connection() as conn:
        assert conn.add(dn, classes, attributes), conn.result
    return dn


def test_entries_with_a_marker_syncd_could_not_have_written_stay_foreign(env):
    assert _apply(env)[0] == 0
    p1 = env.dn("p1")
    foreign = [
        _add(env, "uid=svc-backup,ou=people", ["inetOrgPerson"], cn="svc", sn="backup",
             businessCategory="syncd:group:units:old"),  # a helpdesk tool's doing
        _add(env, "uid=svc-print,ou=people", ["inetOrgPerson"], cn="svc", sn="print",
             businessCategory="syncd:ldap:group:units:print"),  # a user is no group
        _add(env, "cn=other-install,ou=groups", ["groupOfNames"], member=p1,
             businessCategory="syncd:other:group:units:old"),  # another target's
        _add(env, "cn=cloned,ou=groups", ["groupOfNames"], member=p1,
             businessCategory="syncd:ldap:group:teams:x"),  # a rule this mapping lacks
        _add(env, "ou=42", ["organizationalUnit"], ou="42", businessCategory="syncd:ou:42"),
        _add(env, "ou=43", ["organizationalUnit"], ou="43",
             businessCategory="syncd:ldap:ou:43"),  # this mapping has no ou_tree
    ]
    _lose_the_store(env, "deleted")  # where a marker counts most: nothing else says whose
    for day in (DAY, "2026-12-02"):
        code, out = _apply(env, day)
        assert code == 0, out
        assert set(foreign) <= set(env.search("(objectClass=*)")), out
    owned = {dn.lower() for dn in _registered_dns(env)}
    assert not owned & {dn.lower() for dn in foreign}


def _registered_dns(env: SyncEnv) -> set[str]:
    store = open_store(f"sqlite:///{env.root / 'store.db'}")
    try:
        return {own.locator for own in store.accounts("ldap").values()}
    finally:
        store.close()


def test_a_marked_group_nothing_wants_is_deleted_no_sooner_than_the_next_cycle(env):
    assert _apply(env)[0] == 0
    groups = _registered(env, GROUP)
    assert "units:it" in groups
    _lose_the_store(env, "deleted")
    env.org["engagements"][3]["valid_to"] = "2026-12-05"  # p4 was all of it-afdelingen
    code, out = _apply(env, "2026-12-06")
    assert code == 0, out
    assert env.members("it-afdelingen"), out  # adopted, not deleted in the same cycle
    assert _registered(env, GROUP) == groups
    code, out = _apply(env, "2026-12-07")
    assert code == 0, out
    assert not env.search("(cn=it-afdelingen)")
    assert "units:it" not in _registered(env, GROUP)
