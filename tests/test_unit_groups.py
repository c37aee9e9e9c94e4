"""Unit groups on real data: several units of one name get distinct group names, a name
once given is kept, and a renamed unit's group is renamed."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from syncd.mapping.desired import Desired
from syncd.mapping.unitnames import unit_slugs
from syncd.objects import ACTIVE, GROUP, USER, Owned
from syncd.org import Unit
from tests.mapping_env import BASE, DAY, desired_for
from tests.sync_env import SMALL_ORG, SyncEnv


def units(*rows: tuple[str, str, str | None]) -> dict[str, Unit]:
    return {uid: Unit(id=uid, name=name, parent=parent) for uid, name, parent in rows}


TREE = (("root", "Kolding Kommune", None), ("born", "Børn og Unge", "root"),
        ("it", "IT og Digitalisering", "root"))


@pytest.mark.parametrize(
    ("extra", "previous", "expected"),
    [
        ([("a1", "Administration", "born")], {}, {"a1": "administration"}),
        ([("a1", "Administration", "born"), ("a2", "Administration", "it")], {},
         {"a1": "administration", "a2": "administration-it-og-digitalisering"}),
        # a2 had the plain name first: it keeps it, though a1 sorts before it
        ([("a1", "Administration", "born"), ("a2", "Administration", "it")],
         {"a2": "administration"},
         {"a1": "administration-boern-og-unge", "a2": "administration"}),
        # same name under the same parent's name: the id tells them apart
        ([("a1", "Administration", "born"), ("a2", "Administration", "born"),
          ("a3", "Administration", "born")], {},
         {"a1": "administration", "a2": "administration-boern-og-unge",
          "a3": "administration-a3"}),
        # a renamed unit does not keep its old name
        ([("a1", "Løn og Personale", "born")], {"a1": "administration"},
         {"a1": "loen-og-personale"}),
        # a unit whose plain slug is taken by a variant still gets its own plain slug
        ([("a1", "Administration", "born"), ("a2", "Administration", "it"),
          ("a3", "Administration IT og Digitalisering", "root")], {},
         {"a1": "administration", "a2": "administration-a2",
          "a3": "administration-it-og-digitalisering"}),
        ([("a1", "Ωμέγα", "born"), ("a2", "🙂", "born")], {}, {"a1": "omega", "a2": "a2"}),
    ],
)
def test_unit_slugs(extra, previous, expected):
    names = unit_slugs(units(*TREE, *extra), DAY, previous)
    assert {uid: names[uid] for uid in expected} == expected
    assert len(set(names.values())) == len(names)


# --- the shipped mapping, on an org with two "Administration" units ----------------------


def org_with_administrations(*admins: tuple[str, str, str]) -> dict[str, Any]:
    """SMALL_ORG plus an "Administration" unit (id, parent, person engaged there) each."""
    org = copy.deepcopy(SMALL_ORG)
    for unit_id, parent, person in admins:
        org["units"].append({"id": unit_id, "name": "Administration", "parent": parent})
        engagement = next(e for e in org["engagements"] if e["person"] == person)
        engagement["unit"] = unit_id
    return org


def desired(tmp_path: Path, org: dict[str, Any], known_groups: dict[str, Owned]) -> Desired:
    return desired_for(tmp_path, org, known_groups=known_groups)


def unit_groups(result: Desired) -> dict[str, str]:
    return {w.key: w.locator for w in result.objects
            if w.kind == GROUP and w.rule == "groups.units"}


def registered(result: Desired) -> dict[str, Owned]:
    """The registry rows an apply of `result` would leave for its groups."""
    return {w.key: Owned("ldap", GROUP, w.key, w.locator, w.username, state=ACTIVE)
            for w in result.objects if w.kind == GROUP}


def test_two_units_of_one_name_get_distinct_groups(tmp_path):
    result = desired(tmp_path, org_with_administrations(("adm-b", "born", "p5"),
                                                        ("adm-i", "it", "p4")), {})
    assert result.problems == []
    groups = unit_groups(result)
    assert groups["units:adm-b"] == f"cn=administration,ou=groups,{BASE}"
    assert groups["units:adm-i"] == f"cn=administration-it-afdelingen,ou=groups,{BASE}"


def test_a_group_keeps_its_name_when_a_second_unit_of_that_name_appears(tmp_path):
    first = desired(tmp_path, org_with_administrations(("z-adm", "it", "p4")), {})
    assert unit_groups(first)["units:z-adm"] == f"cn=administration,ou=groups,{BASE}"
    # a new "Administration" whose id sorts first: the older group keeps the plain name
    later = desired(tmp_path, org_with_administrations(("z-adm", "it", "p4"),
                                                       ("a-adm", "born", "p5")),
                    registered(first))
    groups = unit_groups(later)
    assert groups["units:z-adm"] == f"cn=administration,ou=groups,{BASE}"
    assert groups["units:a-adm"] == f"cn=administration-boern-og-unge,ou=groups,{BASE}"


def test_a_renamed_unit_renames_its_group(tmp_path):
    org = org_with_administrations(("adm", "it", "p4"))
    first = desired(tmp_path, org, {})
    next(u for u in org["units"] if u["id"] == "adm")["name"] = "Løn og Personale"
    renamed = desired(tmp_path, org, registered(first))
    assert unit_groups(renamed)["units:adm"] == f"cn=loen-og-personale,ou=groups,{BASE}"


# --- against slapd: every apply succeeds, names stay -------------------------------------


@pytest.mark.slapd
def test_apply_with_two_units_of_one_name(tmp_path, slapd, capsys):
    env = SyncEnv(tmp_path, slapd)
    env.org = org_with_administrations(("z-adm", "it", "p4"))
    code, out, _ = env.apply(capsys)
    assert code == 0, out
    assert env.members("administration") == {env.dn("p4")}
    env.org = org_with_administrations(("z-adm", "it", "p4"), ("a-adm", "born", "p5"))
    code, out, _ = env.apply(capsys)
    assert code == 0, out
    assert env.members("administration") == {env.dn("p4")}  # the first keeps its name
    assert env.members("administration-boern-og-unge") == {env.dn("p5")}
    assert env.plan(capsys)["changes"] == []
    next(u for u in env.org["units"] if u["id"] == "a-adm")["name"] = "Løn og Personale"
    code, out, _ = env.apply(capsys)
    assert code == 0, out
    assert env.members("loen-og-personale") == {env.dn("p5")}  # renamed with its unit
    assert env.members("administration-boern-og-unge") == set()
    assert env.members("administration") == {env.dn("p4")}
    assert env.plan(capsys)["changes"] == []


def test_group_names_in_the_registry_are_not_taken_usernames(store):
    store.save_accounts([Owned("ldap", GROUP, "units:anne", "cn=anne,ou=groups", "anne"),
                         Owned("ldap", USER, "p1", "uid=jensh,ou=people", "jensh")])
    assert store.taken_usernames("ldap") == {"jensh"}
