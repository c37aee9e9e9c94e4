"""Every rule of CONTRACT section 3, against a real slapd, through the real CLI."""

from __future__ import annotations

import socket
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from syncd.store import open_store
from syncd.store.locks import LEASE
from syncd.store.schema import locks
from tests.conftest import REPO
from tests.sync_env import DAY, SyncEnv

pytestmark = pytest.mark.slapd


@pytest.fixture
def env(tmp_path, slapd) -> SyncEnv:
    return SyncEnv(tmp_path, slapd)


def test_new_hires_get_entries_with_every_contract_attribute(env, capsys):
    code, out, err = env.apply(capsys)
    assert code == 0, out + err
    dn, attrs = env.user("p2")
    assert dn == f"uid=aaseo,ou=people,{env.base}"
    assert attrs["objectClass"] == ["inetOrgPerson"]
    assert attrs["employeeNumber"] == ["p2"]
    assert attrs["cn"] == ["Åse Østergård"]
    assert attrs["displayName"] == ["Åsa Østergård"]
    assert attrs["givenName"] == ["Åse"] and attrs["sn"] == ["Østergård"]
    assert attrs["title"] == ["Lærer"]
    assert attrs["ou"] == ["Ærtebjerg Skole"] and attrs["departmentNumber"] == ["skole"]
    assert attrs["mail"] == ["aaseo@kolding.example"]  # the public address is secret: fallback
    assert attrs["telephoneNumber"] == ["+45 7979 1234"]
    assert attrs["manager"] == [f"uid=jensh,ou=people,{env.base}"]  # p3 manages skole
    assert env.user("p1")[1]["mail"] == ["direktoer@kolding.example"]


def test_manager_is_nearest_up_the_tree_and_never_oneself(env, capsys):
    env.apply(capsys)
    assert env.user("p3")[1]["manager"] == [env.user("p1")[0]]  # skole's own manager is p3
    assert env.user("p5")[1]["manager"] == [env.user("p1")[0]]  # born has none: root's
    assert "manager" not in env.user("p1")[1]  # the top manager has nobody above


def test_usernames_are_ascii_unique_and_transliterated(env, capsys):
    env.apply(capsys)
    uids = {pid: attrs["uid"][0] for pid, (_, attrs) in env.users().items()}
    assert uids == {"p1": "soerena", "p2": "aaseo", "p3": "jensh", "p4": "jhansen",
                    "p5": "reneel"}


def test_groups_per_unit_and_managers(env, capsys):
    env.apply(capsys)
    assert env.members("aertebjerg-skole") == {env.dn("p2"), env.dn("p3")}
    assert env.members("it-afdelingen") == {env.dn("p4")}
    assert env.members("managers") == {env.dn("p1"), env.dn("p3")}
    groups = env.search("(objectClass=groupOfNames)", f"ou=groups,{env.base}")
    # the units with members only: born (p5), root (p1), skole, it; and managers
    assert len(groups) == 5


def test_plan_after_apply_is_empty(env, capsys):
    env.apply(capsys)
    plan = env.plan(capsys)
    assert plan["changes"] == [], plan["changes"]
    code, _, _ = env.run(capsys, "plan", "--today", DAY, "--detailed-exitcode")
    assert code == 0


def test_plan_changes_nothing_and_detailed_exitcode(env, capsys):
    code, out, _ = env.run(capsys, "plan", "--today", DAY, "--detailed-exitcode")
    assert code == 2
    assert "+ user  p2  uid=aaseo,ou=people" in out
    assert env.search("(employeeNumber=*)") == {}


def test_future_hire_inside_and_outside_the_window(env, capsys):
    env.org["persons"] += [{"id": "f7", "given_name": "Fremtidig", "surname": "Syv"},
                           {"id": "f40", "given_name": "Fremtidig", "surname": "Fyrre"}]
    env.org["engagements"] += [
        {"id": "ef7", "person": "f7", "unit": "it", "primary": True, "valid_from": "2026-12-08"},
        {"id": "ef40", "person": "f40", "unit": "it", "primary": True,
         "valid_from": "2027-01-10"},
    ]
    env.apply(capsys)
    users = env.users()
    assert "f7" in users and "f40" not in users
    assert env.dn("f7") not in env.members("it-afdelingen")  # not engaged there yet
    env.apply(capsys, "2026-12-08")
    assert env.dn("f7") in env.members("it-afdelingen")
    env.apply(capsys, "2026-12-27")
    assert "f40" in env.users()


def test_move_between_units_moves_groups_and_title(env, capsys):
    env.apply(capsys)
    env.org["engagements"][1].update(unit="it", job_function="IT-supporter")
    code, out, _ = env.apply(capsys)
    assert code == 0
    assert env.user("p2")[1]["title"] == ["IT-supporter"]
    assert env.user("p2")[1]["ou"] == ["IT-afdelingen"]
    assert env.dn("p2") in env.members("it-afdelingen")
    assert env.dn("p2") not in env.members("aertebjerg-skole")
    assert "member           + uid=aaseo,ou=people" in out


def test_name_change_keeps_uid_and_follows_cn(env, capsys):
    env.apply(capsys)
    env.org["persons"][1].update(surname="Bjørnsen")
    env.apply(capsys)
    dn, attrs = env.user("p2")
    assert attrs["uid"] == ["aaseo"] and dn.startswith("uid=aaseo,")
    assert attrs["cn"] == ["Åse Bjørnsen"] and attrs["sn"] == ["Bjørnsen"]


def test_two_engagements_in_one_unit_make_one_membership(env, capsys):
    env.org["engagements"].append({"id": "e2b", "person": "p2", "unit": "skole",
                                   "job_function": "Vikar", "valid_from": "2020-01-01"})
    code, out, _ = env.apply(capsys)
    assert code == 0, out
    assert env.members("aertebjerg-skole") == {env.dn("p2"), env.dn("p3")}


def test_leave_keeps_account_and_groups(env, capsys):
    env.org["leaves"] = [{"id": "l1", "person": "p2", "leave_type": "Barsel",
                          "valid_from": "2026-11-01", "valid_to": "2027-06-30"}]
    env.apply(capsys)
    assert env.dn("p2").endswith(f"ou=people,{env.base}".lower())
    assert env.dn("p2") in env.members("aertebjerg-skole")


def test_leaving_disables_then_deletes_after_the_period(env, capsys):
    env.apply(capsys)
    env.org["engagements"][3]["valid_to"] = "2026-12-05"  # p4 leaves
    code, out, _ = env.apply(capsys, "2026-12-06")
    assert code == 0, out
    assert env.dn("p4") == f"uid=jhansen,ou=disabled,{env.base}".lower()
    assert "x user  p4  uid=jhansen,ou=people  ->  uid=jhansen,ou=disabled" in out
    assert "why: last engagement ended 2026-12-05" in out
    assert env.members("it-afdelingen") == set()  # the group lost its last member: gone
    env.apply(capsys, "2027-01-04")  # 29 days disabled
    assert "p4" in env.users()
    code, out, _ = env.apply(capsys, "2027-01-05")  # 30 days
    assert "p4" not in env.users()
    assert "- user  p4  uid=jhansen,ou=disabled" in out


def test_rehire_while_disabled_enables_with_the_same_uid(env, capsys):
    env.apply(capsys)
    env.org["engagements"][3]["valid_to"] = "2026-12-05"
    env.apply(capsys, "2026-12-06")
    env.org["engagements"].append({"id": "e9", "person": "p4", "unit": "skole",
                                   "primary": True, "valid_from": "2026-12-10"})
    code, out, _ = env.apply(capsys, "2026-12-10")
    assert code == 0
    assert env.dn("p4") == f"uid=jhansen,ou=people,{env.base}".lower()
    assert env.dn("p4") in env.members("aertebjerg-skole")
    assert "^ user  p4  uid=jhansen,ou=disabled  ->  uid=jhansen,ou=people" in out


def test_rehire_after_delete_gets_the_same_uid(env, capsys):
    env.apply(capsys)
    env.org["engagements"][3]["valid_to"] = "2026-12-05"
    env.apply(capsys, "2026-12-06")
    env.apply(capsys, "2027-01-10")
    assert "p4" not in env.users()
    env.org["engagements"].append({"id": "e9", "person": "p4", "unit": "it",
                                   "primary": True, "valid_from": "2027-02-01"})
    env.apply(capsys, "2027-02-01")
    assert env.user("p4")[1]["uid"] == ["jhansen"]


def test_foreign_entries_are_left_alone(env, capsys):
    env.slapd.load_ldif(f"""dn: ou=people,{env.base}
objectClass: organizationalUnit
ou: people

dn: uid=svc-backup,ou=people,{env.base}
objectClass: inetOrgPerson
uid: svc-backup
cn: Backup service
sn: Service

dn: uid=jensh,ou=people,{env.base}
objectClass: inetOrgPerson
uid: jensh
cn: Jens Hansen from before
sn: Hansen
""")
    code, out, _ = env.apply(capsys)
    assert code == 0, out
    entries = env.search("(uid=*)")
    assert entries[f"uid=svc-backup,ou=people,{env.base}"]["cn"] == ["Backup service"]
    assert entries[f"uid=jensh,ou=people,{env.base}"]["cn"] == ["Jens Hansen from before"]
    assert env.user("p3")[1]["uid"] != ["jensh"]  # the taken name is not reused
    assert "not ours (left alone)" in out
    env.org["engagements"] = []  # everyone leaves: foreign entries still untouched
    env.apply(capsys, DAY, "--allow-deletes", "100")
    assert f"uid=svc-backup,ou=people,{env.base}" in env.search("(uid=*)")


def test_pre_existing_entry_is_adopted_by_correlation(env, capsys):
    env.slapd.load_ldif(f"""dn: ou=staff,{env.base}
objectClass: organizationalUnit
ou: staff

dn: uid=direktor,ou=staff,{env.base}
objectClass: inetOrgPerson
uid: direktor
cn: Gammel Direktør
sn: Ærø
mail: direktoer@kolding.example
""")
    code, out, _ = env.apply(capsys)
    assert code == 0, out
    dn, attrs = env.user("p1")
    assert dn == f"uid=direktor,ou=people,{env.base}"  # moved into place, name kept
    assert attrs["cn"] == ["Søren Ærø"] and attrs["employeeNumber"] == ["p1"]
    assert "adopts a pre-existing entry" in out
    assert env.plan(capsys)["changes"] == []


def test_delete_guard_stops_destructive_changes(tmp_path, slapd, capsys, caplog):
    env = SyncEnv(tmp_path, slapd, max_deletes=1)
    env.apply(capsys)
    for engagement in env.org["engagements"][1:4]:
        engagement["valid_to"] = "2026-12-05"
    code, out, _ = env.apply(capsys, "2026-12-06")
    assert code == 3
    # three disables, and two unit groups that lose their last members
    assert "guard deletes tripped (5 > 1)" in caplog.text
    assert "deletes 5/1 TRIPPED" in out
    users = env.users()
    assert all(dn.endswith(f"ou=people,{env.base}") for dn, _ in users.values())
    assert env.dn("p2") in env.members("aertebjerg-skole")  # access kept until decided
    code, out, _ = env.apply(capsys, "2026-12-06", "--allow-deletes", "5")
    assert code == 0, out
    assert env.dn("p2").endswith(f"ou=disabled,{env.base}".lower())


def test_delete_ratio_guard(tmp_path, slapd, capsys):
    env = SyncEnv(tmp_path, slapd, max_delete_ratio=0.1)
    env.apply(capsys)
    env.org["engagements"][4]["valid_to"] = "2026-12-05"
    code, out, _ = env.apply(capsys, "2026-12-06")
    assert code == 3
    assert "delete ratio" in out and "TRIPPED" in out


def test_a_refused_object_does_not_stop_the_others(env, capsys):
    env.org["addresses"].append({"id": "a9", "owner": "p4", "type": "phone",
                                 "value": "ring til Jens ☎", "visibility": "public"})
    code, out, _ = env.apply(capsys)
    assert code == 1
    assert "uid=jhansen,ou=people" in out and "refused by the server" in out
    assert "invalidAttributeSyntax" in out or "invalid" in out.lower()
    users = env.users()
    assert set(users) == {"p1", "p2", "p3", "p5"}
    assert env.members("it-afdelingen") == set()  # no group names the refused entry
    env.org["addresses"].pop()
    code, _, _ = env.apply(capsys)
    assert code == 0
    assert env.user("p4")[1]["uid"] == ["jhansen"]  # the reserved name, retried
    assert env.members("it-afdelingen") == {env.dn("p4")}


def test_template_error_names_file_line_and_object(env, capsys, tmp_path):
    mapping = tmp_path / "mapping.yaml"
    text = env.config.read_text()
    original = Path(text.split("mapping: ")[1].splitlines()[0])
    mapping.write_text(original.read_text().replace(
        "title: \"{{ primary.job_function or '' }}\"", "title: \"{{ primary.jobfunction }}\""))
    env.config.write_text(text.replace(str(original), str(mapping)))
    code, out, _ = env.apply(capsys)
    assert code == 1
    assert f"{mapping}:" in out
    assert "users.attributes.title:" in out and "person p1" in out  # grouped: 5 alike
    assert env.users() == {}  # nothing half-rendered was written


def test_show_person_lists_accounts_and_last_changes(env, capsys):
    env.apply(capsys)
    code, out, _ = env.run(capsys, "show", "person", "p2", "--today", DAY)
    assert code == 0
    assert f"    ldap: aaseo  uid=aaseo,ou=people,{env.base}  (active)" in out
    assert "ldap: create uid=aaseo,ou=people" in out


def test_audit_lines_are_json(env, capsys, caplog):
    import json
    import logging

    with caplog.at_level(logging.INFO, logger="syncd.audit"):
        env.apply(capsys)
    lines = [json.loads(r.message) for r in caplog.records if r.name == "syncd.audit"]
    creates = [line for line in lines if line["dn"].startswith("uid=aaseo")]
    assert creates[0]["action"] == "create" and creates[0]["target"] == "ldap"
    assert creates[0]["source"] == "engagements/e2"
    assert creates[0]["rule"] == "users"


def test_two_units_with_one_name_do_not_fight_over_one_group(env, capsys):
    env.org["units"].append({"id": "it2", "name": "IT-afdelingen", "parent": "born"})
    env.org["engagements"][4]["unit"] = "it2"  # p5 into the second "IT-afdelingen"
    code, out, _ = env.apply(capsys)
    assert code == 0, out  # each unit gets a distinct group name (tests/test_unit_groups.py)
    assert env.members("it-afdelingen") == {env.dn("p4")}
    assert env.members("it-afdelingen-*") == {env.dn("p5")}


def test_an_entry_that_only_carries_the_person_id_is_never_taken_over(env, capsys):
    env.apply(capsys)
    own_dn, _ = env.user("p1")
    with env.connection() as conn:
        conn.delete(own_dn)  # someone deletes our entry by hand ...
        conn.add(f"ou=admins,{env.base}", "organizationalUnit", {"ou": "admins"})
        conn.add(f"uid=adm-soeren,ou=admins,{env.base}", "inetOrgPerson",  # ... and has this
                 {"uid": "adm-soeren", "cn": "Søren (admin)", "sn": "Ærø",
                  "employeeNumber": "p1"})
    code, out, _ = env.apply(capsys)
    assert code == 0, out
    found = env.search("(employeeNumber=p1)")
    assert found[f"uid=adm-soeren,ou=admins,{env.base}"]["cn"] == ["Søren (admin)"]
    assert found[own_dn]["uid"] == ["soerena"]  # ours, created again with its name


def test_a_disabled_account_is_disabled_once(env, capsys):
    env.apply(capsys)
    env.org["engagements"][3]["valid_to"] = "2026-12-05"
    env.apply(capsys, "2026-12-06")
    for day in ("2026-12-07", "2026-12-20"):
        assert env.plan(capsys, day)["changes"] == []


def test_a_failing_template_never_removes_access(env, capsys, tmp_path):
    env.apply(capsys)  # p4 is the only member of it-afdelingen
    mapping = tmp_path / "mapping.yaml"
    text = env.config.read_text()
    original = Path(text.split("mapping: ")[1].splitlines()[0])
    mapping.write_text(original.read_text().replace(
        "title: \"{{ primary.job_function or '' }}\"",
        "title: \"{{ primary.job_function.upper() }}\""))
    env.config.write_text(text.replace(str(original), str(mapping)))
    env.org["engagements"][3]["job_function"] = None  # p4's template now fails
    env.org["persons"][3]["surname"] = "Hansen-Berg"
    code, out, _ = env.apply(capsys)
    assert code == 1 and "person p4" in out
    assert env.user("p4")[1]["sn"] == ["Hansen"]  # left exactly as it was
    assert env.members("it-afdelingen") == {env.dn("p4")}  # the group was not deleted
    assert env.user("p2")[1]["title"] == ["LÆRER"]  # everyone else went ahead


def test_one_apply_per_target_at_a_time_across_processes(env, capsys):
    env.apply(capsys)
    store = open_store(f"sqlite:///{env.root / 'store.db'}")
    with store.target_lease("ldap"):  # as if a daemon were applying right now
        result = subprocess.run(
            [sys.executable, "-m", "syncd", "apply", "-c", str(env.config)],
            cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 1
    assert "target ldap is held by" in result.stderr
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()
    now = datetime.now(UTC)
    with store.engine.begin() as conn:  # a holder that died without letting go
        conn.execute(locks.insert().values(name="target ldap", since=now,
                                           holder=f"{socket.gethostname()}:{gone}:1",
                                           expires_at=now + LEASE))
    code, out, _ = env.apply(capsys)
    assert code == 0, out


def test_a_broken_members_expression_cannot_strip_every_group(tmp_path, slapd, capsys):
    env = SyncEnv(tmp_path, slapd, max_deletes=2, max_delete_ratio=0.2)
    everyone = """
  - name: everyone
    key: everyone
    members: "true"
    dn: "cn=everyone,ou=groups"
    object_classes: [groupOfNames]
"""
    mapping = tmp_path / "mapping.yaml"
    text = env.config.read_text()
    original = Path(text.split("mapping: ")[1].splitlines()[0])
    mapping.write_text(original.read_text() + everyone)
    env.config.write_text(text.replace(str(original), str(mapping)))
    env.apply(capsys)
    assert len(env.members("everyone")) == 5
    mapping.write_text(original.read_text() + everyone.replace('"true"', "person.id == 'p1'"))
    code, out, _ = env.apply(capsys)
    assert code == 3
    assert "member removals 4/2 TRIPPED" in out
    assert len(env.members("everyone")) == 5  # nobody lost access
    code, _, _ = env.apply(capsys, DAY, "--allow-deletes", "4")
    assert code == 0
    assert env.members("everyone") == {env.dn("p1")}
    mapping.write_text(original.read_text() + everyone)
    env.apply(capsys)
    mapping.write_text(original.read_text() + everyone.replace('"true"', "'false'"))
    code, out, _ = env.apply(capsys)  # nobody at all: the group would go with its members
    assert code == 3
    assert "deletes 1/2 ok" in out and "member removals 5/2 TRIPPED" in out
    assert len(env.members("everyone")) == 5


# Unit names with every RFC 4514 special, leading/trailing spaces and non-ASCII letters.
AWKWARD_UNITS = {
    "born": "Løn, Personale + HR",
    "skole": '"Skole" Nord',
    "it": " Leading space",
    "team": "#1 Team",
    "odd": "A;B<C>=D\\E",
    "cjk": "研发 Ελληνικά trailing ",
}
OU_TREE = '\nou_tree: {under: ou=units, rdn: "ou={{ unit.name | dn_escape }}"}\n'


def use_ou_tree(env: SyncEnv, tmp_path: Path) -> None:
    """The README's OU-tree recipe: users placed in their primary unit's OU."""
    mapping = tmp_path / "ou-tree.yaml"
    text = env.config.read_text()
    original = Path(text.split("mapping: ")[1].splitlines()[0])
    users_dn = '  dn: "uid={{ username }},ou=people"'
    assert users_dn in original.read_text()
    mapping.write_text(
        original.read_text().replace(users_dn, '  dn: "uid={{ username }},{{ unit_dn }}"')
        + OU_TREE
    )
    env.config.write_text(text.replace(str(original), str(mapping)))


def with_awkward_units(env: SyncEnv) -> None:
    env.org["units"] += [{"id": "team", "name": "", "parent": "it"},
                         {"id": "odd", "name": "", "parent": "skole"},
                         {"id": "cjk", "name": "", "parent": "root"}]
    for unit in env.org["units"]:
        unit["name"] = AWKWARD_UNITS.get(unit["id"], unit["name"])
    env.org["persons"].append({"id": "p6", "given_name": "Ōta", "surname": "Læssøe"})
    env.org["engagements"] += [
        {"id": "e6", "person": "p6", "unit": "odd", "primary": True, "valid_from": "2020-01-01"},
        {"id": "e7", "person": "p6", "unit": "cjk", "valid_from": "2020-01-01"},
    ]
    env.org["engagements"][3]["unit"] = "team"  # p4 into "#1 Team", below " Leading space"


def test_the_ou_tree_recipe_with_awkward_unit_names_converges(env, capsys, tmp_path):
    use_ou_tree(env, tmp_path)
    with_awkward_units(env)
    code, out, err = env.apply(capsys)
    assert code == 0, out + err
    assert "refused" not in out
    assert env.plan(capsys)["changes"] == []  # slapd's \2C spelling matches ours

    ous = {attrs["ou"][0]: dn for dn, attrs in env.search("(objectClass=organizationalUnit)")
           .items()}  # fmt: skip
    for name in AWKWARD_UNITS.values():
        assert name in ous  # the whole name, unescaped: no junk `ou: Løn\`
    [payroll] = env.search("(&(objectClass=organizationalUnit)(ou=Løn*))").values()
    assert payroll["ou"] == ["Løn, Personale + HR"]
    assert env.dn("p5") == f"uid=reneel,{ous['Løn, Personale + HR']}".lower()
    assert env.dn("p4").startswith("uid=jhansen,ou=\\231 team,ou=\\20leading space,")
    assert env.members("1-team") == {env.dn("p4")}


def test_switching_the_ou_tree_on_moves_users_and_their_memberships(env, capsys, tmp_path):
    with_awkward_units(env)
    env.apply(capsys)
    members = {group: len(env.members(group)) for group in ("managers", "skole-nord")}
    assert members == {"managers": 2, "skole-nord": 2}

    use_ou_tree(env, tmp_path)
    env.org["engagements"][3]["valid_to"] = "2026-12-05"  # and p4 leaves meanwhile
    # strict guards: a member rewritten to its entry's new DN is no removal
    env.config.write_text(env.config.read_text().replace("max_deletes: 50", "max_deletes: 2")
                          .replace("max_delete_ratio: 1.0", "max_delete_ratio: 0.5"))
    # refint rewrites every moved member before syncd's member deltas arrive; those were
    # refused attributeOrValueExists, and the leaver's removal with them
    code, out, err = env.apply(capsys, "2026-12-06")
    assert code == 0, out + err
    assert "refused" not in out and "TRIPPED" not in out
    assert env.members("skole-nord") == {env.dn("p2"), env.dn("p3")}
    assert env.dn("p2").endswith(",ou=\\22skole\\22 nord,ou=løn\\2c personale \\2b hr,"
                                 f"ou=kolding kommune,ou=units,{env.base}".lower())
    assert env.members("1-team") == set()  # the leaver's group went with its last member
    assert env.dn("p4").endswith(f"ou=disabled,{env.base}".lower())
    assert env.plan(capsys, "2026-12-06")["changes"] == []


def test_an_ou_the_server_will_not_delete_is_left_and_not_tried_every_cycle(
        env, capsys, tmp_path, monkeypatch):
    """AD refuses to delete an OU that holds what syncd cannot read (or one protected
    from deletion): the cycle says so once, the OU stays syncd's but is never an orphan
    again, and later cycles are clean."""
    import syncd.cycle
    from syncd.errors import ObjectRejected
    from syncd.plan.model import Action

    use_ou_tree(env, tmp_path)
    assert env.apply(capsys)[0] == 0
    env.org["engagements"][3]["unit"] = "born"  # IT's only person moves: its OU is empty
    env.org["units"] = [u for u in env.org["units"] if u["id"] != "it"]
    opened = syncd.cycle.open_target
    refused = []

    def refusing_ou_deletes(config):
        target = opened(config)
        apply = target.apply

        def apply_or_refuse(change):
            if change.kind == "ou" and change.action is Action.DELETE:
                refused.append(change.locator)
                raise ObjectRejected(f"{change.locator}: notAllowedOnNonLeaf")
            return apply(change)

        target.apply = apply_or_refuse
        return target

    monkeypatch.setattr(syncd.cycle, "open_target", refusing_ou_deletes)
    code, out, err = env.apply(capsys)
    assert code == 1, out + err  # partial, once
    assert [dn.split(",")[0] for dn in refused] == ["ou=IT-afdelingen"]
    assert "does not try again" in err
    code, out, err = env.apply(capsys)
    assert code == 0, out + err
    assert len(refused) == 1
    assert not [c for c in env.plan(capsys)["changes"] if c["kind"] == "ou"]
