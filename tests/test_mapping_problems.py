"""The mapping stage's problems and notices: every failing template of a person, a name
without letters, and username patterns that changed under existing accounts."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from syncd.errors import group_problems
from syncd.mapping.rules import load_mapping
from syncd.objects import ACTIVE, USER, Owned
from tests.mapping_env import SHIPPED, desired_for
from tests.sync_env import SMALL_ORG


def mapping_with(tmp_path: Path, *edits: tuple[str, str]):
    text = SHIPPED.read_text(encoding="utf-8")
    for old, new in edits:
        assert old in text
        text = text.replace(old, new)
    path = tmp_path / "mapping.yaml"
    path.write_text(text, encoding="utf-8")
    return load_mapping(path)


def test_every_failing_template_of_a_person_is_reported_and_groups(tmp_path):
    mapping = mapping_with(tmp_path, ('sn: "{{ person.surname }}"', 'sn: "{{ person.surnam }}"'),
                           ('ou: "{{ primary_unit.name }}"', 'ou: "{{ primary_unti.name }}"'))
    result = desired_for(tmp_path, SMALL_ORG, mapping)
    assert {(p.subject, p.path) for p in result.problems} == {
        (f"person {p['id']} ({p['given_name']} {p['surname']})", path)
        for p in SMALL_ORG["persons"]
        for path in ("users.attributes.sn", "users.attributes.ou")}
    groups = group_problems(result.problems)
    assert [(g.first.path, g.first.message, len(g.problems)) for g in groups] == [
        ("users.attributes.sn", "person has no attribute 'surnam'; did you mean 'surname'?", 5),
        ("users.attributes.ou", "undefined variable 'primary_unti'; did you mean "
                                "'primary_unit'?", 5),
    ]
    assert result.frozen == {p["id"] for p in SMALL_ORG["persons"]}


@pytest.mark.parametrize(("given", "surname", "username"), [
    ("🙂", "🎉", None),
    ("Αλέξανδρος", "Παπαδόπουλος", "alexandrosp"),
    ("小龙", "李", "xiaolongl"),
    ("Пётр", "Чайковский", "petrc"),
])
def test_every_name_gets_an_account_or_a_plain_reason(tmp_path, given, surname, username):
    org = copy.deepcopy(SMALL_ORG)
    org["persons"][4].update(given_name=given, surname=surname)  # p5
    result = desired_for(tmp_path, org)
    users = {w.key: w.username for w in result.objects if w.kind == USER}
    assert users.get("p5") == username
    problems = [str(p) for p in result.problems]
    if username:
        assert problems == []
    else:
        [problem] = result.problems
        assert (problem.subject, problem.message) == (
            f"person p5 ({given} {surname})", "the name has no letters to make a username from")


def known(*pairs: tuple[str, str]) -> dict[str, Owned]:
    return {pid: Owned("ldap", USER, pid, f"uid={name},ou=people", name, state=ACTIVE)
            for pid, name in pairs}


GIVEN = known(("p1", "soerena"), ("p2", "aaseo"), ("p3", "jensh"), ("p4", "jensh2"),
              ("p5", "reneel"))


def test_no_notice_while_usernames_come_from_the_patterns(tmp_path):
    assert desired_for(tmp_path, SMALL_ORG, known=GIVEN).notices == []


def test_a_changed_pattern_is_noticed_as_applying_to_new_accounts_only(tmp_path):
    mapping = mapping_with(tmp_path, ('      - "{{ first }}{{ last[:1] }}"\n', ""),
                           ('      - "{{ first }}{{ middle_initials }}{{ last[:1] }}"\n', ""),
                           ('numbered: "{{ first }}{{ last[:1] }}{{ n }}"',
                            'numbered: "{{ first }}.{{ last }}{{ n }}"'))
    result = desired_for(tmp_path, SMALL_ORG, mapping, known=GIVEN)
    assert {w.username for w in result.objects if w.kind == USER} == {
        "soerena", "aaseo", "jensh", "jensh2", "reneel"}  # never renamed
    assert result.notices == [
        "username patterns: 5 existing account(s) have a username the current patterns "
        "would not make (e.g. 'soerena'): the patterns changed, or the person was renamed "
        "or adopted; usernames are never changed, so the patterns apply to new accounts only"]
