"""What a disabled account's entry keeps: the mapping's attributes as found (written only
where the entry has none), except `disabled_attributes` and what reads the manager."""

from __future__ import annotations

import pytest

from syncd.mapping.rules import load_mapping
from syncd.mapping.templating import compile_template, make_environment
from syncd.objects import DISABLED, USER, Owned
from tests.mapping_env import SHIPPED, desired_for
from tests.sync_env import SMALL_ORG


@pytest.mark.parametrize(("source", "reads"), [
    ("{{ phone or '' }}", {"phone"}),
    ("{{ email or username ~ '@' ~ vars.mail_domain }}", {"email", "username", "vars"}),
    ("{{ manager_dn or '' }}", {"manager_dn"}),
    ("{% set m = manager %}{{ m.id if m else '' }}", {"manager"}),
    ("{% for e in engagements %}{{ e.unit }}{% endfor %}", {"engagements"}),
    ("constant", set()),
])
def test_the_names_a_template_reads(source, reads):
    template = compile_template(make_environment(), source, file="m.yaml", line=1, path="x")
    assert template.reads() == reads


def test_a_leaver_keeps_the_mappings_attributes_but_not_the_manager(tmp_path):
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(SHIPPED.read_text(encoding="utf-8").replace(
        "  attributes:\n", '  disabled_attributes:\n    title: "left"\n  attributes:\n', 1),
        encoding="utf-8")
    org = {**SMALL_ORG, "engagements": [{**e, "valid_to": "2026-11-30"} if e["person"] == "p2"
                                        else e for e in SMALL_ORG["engagements"]]}
    known = {"p2": Owned("ldap", USER, "p2", "uid=aaseo,ou=people", "aaseo", state=DISABLED)}
    result = desired_for(tmp_path, org, load_mapping(mapping), known=known)
    leaver = next(w for w in result.objects if w.kind == USER and w.key == "p2")
    active = next(w for w in result.objects if w.kind == USER and w.key == "p1")
    assert leaver.state == DISABLED and active.fill_only == frozenset()
    assert leaver.fill_only == {"cn", "displayName", "givenName", "sn", "ou",
                                "departmentNumber", "mail", "telephoneNumber"}
