"""The command line against a real slapd: apply --json, plan --summary, plan --person,
show by username, render problems grouped in the plan."""

from __future__ import annotations

import json

import pytest

from tests.conftest import REPO
from tests.sync_env import DAY, SyncEnv

pytestmark = pytest.mark.slapd


@pytest.fixture
def env(tmp_path, slapd) -> SyncEnv:
    env = SyncEnv(tmp_path, slapd)
    env.org["persons"] += [{"id": "p6", "given_name": "Ole", "surname": "Gammel"},
                           {"id": "p7", "given_name": "Ny", "surname": "Senere"},
                           {"id": "p8", "given_name": "Uden", "surname": "Job"}]
    env.org["engagements"] += [
        {"id": "e6", "person": "p6", "unit": "it", "primary": True,
         "valid_from": "2000-01-01", "valid_to": "2025-06-30"},
        {"id": "e7", "person": "p7", "unit": "it", "primary": True, "valid_from": "2027-03-01"},
    ]
    return env


def test_apply_json_is_the_outcome_per_kind_and_action(env, capsys):
    env.write_org()
    code, out, err = env.run(capsys, "apply", "--json", "--today", DAY)
    assert code == 0, err
    outcome = json.loads(out)  # stdout is the JSON and nothing else
    assert outcome["target"] == "ldap"
    assert outcome["result"] == "success"
    assert outcome["applied"]["user"] == {"create": 5}
    assert outcome["applied"]["group"]["create"] >= 1
    assert outcome["held"] == {} and outcome["refused"] == {"by_kind": {}, "messages": []}
    assert outcome["plan"]["summary"]["create"] == len(outcome["plan"]["changes"])


def test_plan_summary_is_the_counts_and_guards_only(env, capsys):
    env.write_org()
    code, out, _ = env.run(capsys, "plan", "--summary", "--today", DAY)
    assert code == 0
    tally, guards = out.splitlines()
    assert tally.startswith("ldap: ") and "create" in tally
    assert guards.startswith("guards: deletes 0/")


def test_plan_person_traces_an_account_to_its_rules_and_records(env, capsys):
    env.write_org()
    code, out, err = env.run(capsys, "plan", "--person", "p2", "--today", DAY)
    assert code == 0, err
    assert "  in scope: engaged as Lærer in Ærtebjerg Skole  [engagements/e2]" in out
    assert f"  entry: none yet; would be created as uid=aaseo,ou=people,{env.base}" in out
    assert '    title: "Lærer"\n' in out
    assert "from users.attributes.title at " in out
    assert "reads engagements/e2\n" in out
    assert "reads addresses/a2" in out  # telephoneNumber: the public phone
    assert "reads managers/m2 (persons/p3)" in out  # manager: the school's head
    assert "    uid: \"aaseo\"\n        from users.username (kept once given)" in out

    env.apply(capsys)
    _, out, _ = env.run(capsys, "plan", "--person", "p2", "--json", "--today", DAY)
    trace = json.loads(out)
    assert trace["entry"]["dn"].lower() == f"uid=aaseo,ou=people,{env.base}".lower()
    assert trace["entry"]["action"] == "none (in sync)"
    assert {g["rule"] for g in trace["groups"]} >= {"groups.units"}


@pytest.mark.parametrize(("person", "why"), [
    ("p6", "not in scope: the last engagement ended 2025-06-30"),
    ("p7", "not in scope: the next engagement starts 2027-03-01, outside the pre-provision "
           "window (14 d)"),
    ("p8", "not in scope: no engagement at all"),
])
def test_plan_person_says_why_someone_is_out_of_scope(env, capsys, person, why):
    env.write_org()
    code, out, err = env.run(capsys, "plan", "--person", person, "--today", DAY)
    assert code == 0, err
    assert f"  NOT in scope: {why}\n  entry: none\n" in out


def test_show_person_by_username(env, capsys):
    env.apply(capsys)
    code, out, err = env.run(capsys, "show", "person", "AASEO", "--today", DAY)
    assert code == 0, err
    assert out.startswith("person p2  Åse Østergård")


def test_plan_groups_alike_render_problems_and_json_keeps_each(env, capsys):
    mapping = env.root / "mapping.yaml"
    mapping.write_text((REPO / "mappings" / "openldap.yaml").read_text(encoding="utf-8")
                       .replace("{{ primary.job_function or '' }}", "{{ primary.job_functon }}"),
                       encoding="utf-8")
    env.config.write_text(env.config.read_text().replace(
        str(REPO / "mappings" / "openldap.yaml"), str(mapping)))
    env.write_org()
    code, out, _ = env.run(capsys, "plan", "--today", DAY)
    assert code == 1
    [line] = [line for line in out.splitlines() if line.startswith("! ")]
    assert "users.attributes.title" in line and "(5 times: person p1 (Søren Ærø)" in line
    _, out, _ = env.run(capsys, "plan", "--json", "--today", DAY)
    assert len(json.loads(out)["errors"]) == 5


def test_plan_person_follows_a_leaver_gone_from_the_org(env, capsys):
    env.apply(capsys)
    env.org["persons"] = [p for p in env.org["persons"] if p["id"] != "p5"]
    env.org["engagements"] = [e for e in env.org["engagements"] if e["person"] != "p5"]
    env.write_org()
    code, out, err = env.run(capsys, "plan", "--person", "p5", "--json", "--today", DAY)
    assert code == 0, err
    trace = json.loads(out)
    assert (trace["in_scope"], trace["state"]) == (False, "disabled")
    assert trace["why"] == "the person is no longer in the org store"
    assert trace["entry"]["action"] == "disable"


def test_plan_person_never_shows_a_sensitive_template(env, capsys, tmp_path):
    shipped = REPO / "mappings" / "openldap.yaml"
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(shipped.read_text(encoding="utf-8").replace(
        "  attributes:\n", '  create_only:\n    userPassword: "Welcome2026!"\n  attributes:\n',
        1), encoding="utf-8")
    env.config.write_text(env.config.read_text().replace(str(shipped), str(mapping)))
    for extra in ((), ("--json",)):
        code, out, _ = env.run(capsys, "plan", "--person", "p2", "--today", DAY, *extra)
        assert code == 0 and "userPassword" in out
        assert "Welcome2026" not in out
