"""The README's mapping cookbook, proven against a real slapd: OU tree mirroring, users
placed in their unit's OU, groups from job functions and roles, a static list, nested
groups, and attributes set on disable."""

from __future__ import annotations

import pytest

from tests.sync_env import SyncEnv

pytestmark = pytest.mark.slapd

COOKBOOK = """
lifecycle: {pre_provision_days: 14, delete_after_days: 30}
containers: [ou=groups, ou=disabled]
ou_tree:
  under: ou=units
  rdn: "ou={{ unit.name | dn_escape }}"
users:
  when: "engaged and (primary.engagement_type or '') != 'Ekstern'"
  dn: "uid={{ username }},{{ unit_dn }}"
  disabled_dn: "uid={{ username }},ou=disabled"
  object_classes: [inetOrgPerson]
  username:
    patterns: ["{{ first }}{{ last[:1] }}"]
    numbered: "{{ first }}{{ last[:1] }}{{ n }}"
  attributes:
    cn: "{{ person.given_name }} {{ person.surname }}"
    sn: "{{ person.surname }}"
    initials: "{{ (person.given_name ~ ' ' ~ person.surname) | initials }}"
    description: "{{ 'on leave' if on_leave else 'active' }}"
  disabled_attributes:
    description: "disabled by syncd on {{ disabled_on | isodate }}"
  create_only:
    userPassword: "{{ 'Initial-' ~ person.id }}"
groups:
  - name: jobs
    members: "[primary.job_function | slug] if primary and primary.job_function else []"
    dn: "cn=job-{{ key }},ou=groups"
    object_classes: [groupOfNames]
  - name: roles
    members: "roles | map(attribute='role_type') | map('slug') | list"
    dn: "cn=role-{{ key }},ou=groups"
    object_classes: [groupOfNames]
  - name: admins
    key: admins
    members: "person.id in ['p1', 'p4']"
    dn: "cn=admins,ou=groups"
    object_classes: [groupOfNames]
  - name: all-jobs
    key: all-jobs
    members: "false"
    nested: [jobs]
    dn: "cn=all-jobs,ou=groups"
    object_classes: [groupOfNames]
"""


@pytest.fixture
def env(tmp_path, slapd) -> SyncEnv:
    env = SyncEnv(tmp_path, slapd)
    mapping = tmp_path / "cookbook.yaml"
    mapping.write_text(COOKBOOK, encoding="utf-8")
    text = env.config.read_text()
    original = text.split("mapping: ")[1].splitlines()[0]
    env.config.write_text(text.replace(original, str(mapping)))
    env.org["roles"] = [{"id": "r1", "person": "p2", "unit": "skole",
                         "role_type": "Arbejdsmiljørepræsentant"}]
    return env


def test_ou_tree_and_users_in_their_unit(env, capsys):
    code, out, _ = env.apply(capsys)
    assert code == 0, out
    base = env.base.lower()
    assert env.dn("p2") == f"uid=aaseo,ou=ærtebjerg skole,ou=børn og unge,ou=kolding kommune," \
                           f"ou=units,{base}"
    assert env.user("p2")[1]["initials"] == ["ÅØ"]
    env.org["engagements"][1]["unit"] = "it"
    code, out, _ = env.apply(capsys)
    assert env.dn("p2") == f"uid=aaseo,ou=it-afdelingen,ou=kolding kommune,ou=units,{base}"
    assert "> user  p2" in out


def test_groups_from_jobs_roles_static_lists_and_nesting(env, capsys):
    env.apply(capsys)
    assert env.members("job-laerer") == {env.dn("p2")}
    assert env.members("role-arbejdsmiljoerepraesentant") == {env.dn("p2")}
    assert env.members("admins") == {env.dn("p1"), env.dn("p4")}
    nested = env.members("all-jobs")
    assert f"cn=job-laerer,ou=groups,{env.base}".lower() in nested
    assert len(nested) == 5  # one group per distinct job function
    assert env.plan(capsys)["changes"] == []


def test_disabled_attributes_are_set_on_disable(env, capsys):
    env.apply(capsys)
    env.org["engagements"][4]["valid_to"] = "2026-12-05"
    env.apply(capsys, "2026-12-06")
    dn, attrs = env.user("p5")
    assert dn.startswith("uid=reneel,ou=disabled,")
    assert attrs["description"] == ["disabled by syncd on 2026-12-06"]
    assert env.plan(capsys, "2026-12-07")["changes"] == []  # disabled once, not every day


def test_who_gets_an_account_and_initial_passwords(env, capsys):
    env.org["engagements"][4]["engagement_type"] = "Ekstern"  # p5 is an external
    env.write_org()
    code, out, _ = env.run(capsys, "plan", "--today", "2026-12-01")
    assert code == 0
    assert "p5" not in out
    assert "userPassword     (sensitive)" in out
    assert "Initial-p" not in out
    env.apply(capsys)
    assert "p5" not in env.users()
    with env.connection() as conn:
        conn.search(env.user("p2")[0], "(objectClass=*)", attributes=["userPassword"])
        assert conn.entries[0].userPassword.value == b"Initial-p2"
