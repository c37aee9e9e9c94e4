"""Desired state as a pure function: an org view built in memory, a mapping from a file.

An id-keyed target (one that gives each object an id) places nothing: its mapping has
no DNs, and its groups name their members by reference, shown by username.
"""

from __future__ import annotations

import textwrap
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from syncd.errors import ConfigError
from syncd.mapping.desired import Desired, desired_state
from syncd.mapping.rules import CompiledMapping, load_mapping
from syncd.mapping.schema import IdMapping, LdapMapping, MappingFile
from syncd.objects import ACTIVE, DISABLED, GROUP, OU, USER, Owned, Ref, Values, Wanted
from syncd.org import KINDS, Engagement, Manager, Person, Unit
from syncd.orgview import OrgView

DAY = date(2026, 12, 1)
BASE = "dc=example,dc=org"

UNITS = [Unit("root", "Kommune"), Unit("skole", "Ærtebjerg Skole", "root")]
PERSONS = [Person("p1", "Søren", "Ærø"), Person("p2", "Åse", "Øster"),
           Person("p3", "Jens", "Hansen")]
ENGAGEMENTS = [Engagement("e1", "p1", "root", primary=True),
               Engagement("e2", "p2", "skole", primary=True)]  # p3: none
MANAGERS = [Manager("m1", "p1", "root")]

ID_MAPPING = """
users:
  anchor: externalId
  username:
    attribute: userName
    patterns: ["{{ first }}{{ last[:1] }}"]
  attributes:
    displayName: "{{ person.given_name }} {{ person.surname }}"
  disabled_attributes:
    active: "false"
groups:
  - name: units
    members: unit_ids
    member_attribute: members
    attributes:
      displayName: "{{ unit.name }}"
  - name: managers
    key: managers
    members: is_manager
    member_attribute: members
  - name: everyone
    key: everyone
    members: "false"
    member_attribute: members
    nested: [units]
"""

LDAP_MAPPING = """
containers: [ou=people, ou=groups]
users:
  dn: "uid={{ username }},ou=people"
  disabled_dn: "uid={{ username }},ou=disabled"
  object_classes: [inetOrgPerson]
  username:
    patterns: ["{{ first }}{{ last[:1] }}"]
groups:
  - name: units
    members: unit_ids
    dn: "cn={{ unit_slug }},ou=groups"
    object_classes: [groupOfNames]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "mapping.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def org() -> OrgView:
    records: dict[str, list[Any]] = {kind: [] for kind in KINDS}
    records.update(units=UNITS, persons=PERSONS, engagements=ENGAGEMENTS, managers=MANAGERS)
    return OrgView(records, DAY)


def desired(mapping: CompiledMapping, known: dict[str, Owned] | None = None,
            context: dict[str, Any] | None = None) -> Desired:
    return desired_state(org(), mapping, target="t1", context=context or {}, variables={},
                         known=known or {}, taken=set(), lookup=lambda attribute, value: [])


def refs(values: Values) -> list[Ref]:
    assert all(isinstance(v, Ref) for v in values), values
    return [v for v in values if isinstance(v, Ref)]


def by_key(result: Desired) -> dict[tuple[str, str], Wanted]:
    return {(w.kind, w.key): w for w in result.objects}


@pytest.fixture
def id_mapping(tmp_path: Path) -> CompiledMapping:
    return load_mapping(write(tmp_path, ID_MAPPING), IdMapping)


def test_an_id_keyed_mapping_places_nothing(id_mapping):
    result = desired(id_mapping)
    assert result.problems == []
    assert sorted(by_key(result)) == [
        (GROUP, "everyone:everyone"), (GROUP, "managers:managers"), (GROUP, "units:root"),
        (GROUP, "units:skole"), (USER, "p1"), (USER, "p2")]
    assert all(w.locator is None for w in result.objects)
    assert not [w for w in result.objects if w.kind == OU]
    ann = by_key(result)[(USER, "p1")]
    assert ann.attrs == {"externalId": ("p1",), "userName": ("soerena",),
                         "displayName": ("Søren Ærø",)}
    assert "objectClass" not in {name for name, v in ann.create_only.items() if v}


def test_an_id_keyed_groups_members_are_references_shown_by_username(id_mapping):
    objects = by_key(desired(id_mapping))
    skole = objects[(GROUP, "units:skole")]
    (ref,) = skole.attrs["members"]
    assert isinstance(ref, Ref)
    assert (ref.kind, ref.key, ref.where, str(ref)) == (USER, "p2", "", "aaseo")
    assert skole.multi == frozenset({"members"})
    managers = refs(objects[(GROUP, "managers:managers")].attrs["members"])
    assert [(r.key, str(r)) for r in managers] == [("p1", "soerena")]


def test_a_nested_group_names_groups_by_reference_shown_by_name(id_mapping):
    objects = by_key(desired(id_mapping))
    nested = refs(objects[(GROUP, "everyone:everyone")].attrs["members"])
    assert sorted((r.kind, r.key, str(r)) for r in nested) == [
        (GROUP, "units:root", "kommune"), (GROUP, "units:skole", "aertebjerg-skole")]
    assert objects[(GROUP, "units:skole")].username == "aertebjerg-skole"
    assert all(r.where == "" for r in nested)


def test_an_id_keyed_user_keeps_its_username_and_a_leaver_is_disabled_in_place(id_mapping):
    known = {"p2": Owned("t1", USER, "p2", "id-0002", "legacy2", "id-0002", ACTIVE),
             "p3": Owned("t1", USER, "p3", "id-0003", "jens", "id-0003", ACTIVE)}
    objects = by_key(desired(id_mapping, known))
    assert objects[(USER, "p2")].username == "legacy2"
    (ref,) = refs(objects[(GROUP, "units:skole")].attrs["members"])
    assert str(ref) == "legacy2"
    leaver = objects[(USER, "p3")]
    assert (leaver.state, leaver.locator) == (DISABLED, None)
    assert leaver.attrs["active"] == ("false",)


def test_an_ldap_mapping_places_objects_and_members_are_shown_by_dn(tmp_path):
    mapping = load_mapping(write(tmp_path, LDAP_MAPPING), LdapMapping)
    objects = by_key(desired(mapping, context={"base_dn": BASE}))
    assert objects[(USER, "p2")].locator == f"uid=aaseo,ou=people,{BASE}"
    assert objects[(OU, f"ou=people,{BASE}")].locator == f"ou=people,{BASE}"
    (ref,) = refs(objects[(GROUP, "units:skole")].attrs["member"])
    assert (ref.kind, ref.key, str(ref)) == (USER, "p2", f"uid=aaseo,ou=people,{BASE}")


def refusal(tmp_path: Path, text: str, model: type[MappingFile]) -> str:
    with pytest.raises(ConfigError) as caught:
        load_mapping(write(tmp_path, text), model)
    return str(caught.value)


USERNAME = """
  username:
    patterns: ["{{ first }}"]
"""


@pytest.mark.parametrize(("extra_users", "extra_top", "extra_group", "named"), [
    ('  dn: "uid={{ username }},ou=people"\n', "", "", ["users.dn"]),
    ('  disabled_dn: "uid={{ username }}"\n', "", "", ["users.disabled_dn"]),
    ("  object_classes: [inetOrgPerson]\n", "", "", ["users.object_classes"]),
    ("", "containers: [ou=people]\n", "", ["containers"]),
    ("", "ou_tree:\n  under: ou=units\n", "", ["ou_tree"]),
    ("", "", '    dn: "cn={{ unit_slug }}"\n', ["groups: units: dn"]),
    ("", "", "    object_classes: [groupOfNames]\n", ["groups: units: object_classes"]),
    ('  dn: "uid={{ username }}"\n', "containers: [ou=x]\n", "", ["users.dn", "containers"]),
])
def test_an_id_keyed_mapping_refuses_placement_keys(tmp_path, extra_users, extra_top,
                                                     extra_group, named):
    text = (f"{extra_top}users:\n{extra_users}{USERNAME}"
            f"groups:\n  - name: units\n    members: unit_ids\n{extra_group}")
    message = refusal(tmp_path, text, IdMapping)
    assert message.count("this target places nothing") == 1
    for key in named:
        assert key in message
    for key in {"users.dn", "users.disabled_dn", "containers", "ou_tree"} - set(named):
        assert f"{key}," not in message and f"{key}:" not in message


def test_the_same_id_keyed_mapping_loads_without_those_keys(tmp_path):
    text = f"users:\n{USERNAME}groups:\n  - name: units\n    members: unit_ids\n"
    assert load_mapping(write(tmp_path, text), IdMapping).dn is None


@pytest.mark.parametrize(("users", "group", "named"), [
    ("", '    dn: "cn=x"\n    object_classes: [groupOfNames]\n',
     ["users.dn", "users.disabled_dn", "users.object_classes"]),
    ('  dn: "uid={{ username }}"\n  disabled_dn: "uid={{ username }},ou=d"\n'
     "  object_classes: [inetOrgPerson]\n", "",
     ["groups: units: dn", "groups: units: object_classes"]),
    ('  dn: "uid={{ username }}"\n  object_classes: [inetOrgPerson]\n',
     '    dn: "cn=x"\n    object_classes: [groupOfNames]\n', ["users.disabled_dn"]),
])
def test_an_ldap_mapping_requires_dns_and_object_classes(tmp_path, users, group, named):
    text = (f"users:\n{users}{USERNAME}"
            f"groups:\n  - name: units\n    members: unit_ids\n{group}")
    message = refusal(tmp_path, text, LdapMapping)
    assert "an LDAP target's mapping needs" in message
    needed = message.split("needs ", 1)[1].splitlines()[0]
    assert sorted(part.strip() for part in needed.split(",")) == sorted(named)
