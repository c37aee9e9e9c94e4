"""Usernames: lower-case ASCII from the name, unique, never forbidden, deterministic."""

from __future__ import annotations

import pytest

from syncd.mapping.templating import compile_template, make_environment
from syncd.mapping.usernames import (
    LAST_NUMBER,
    UsernameError,
    UsernamePolicy,
    could_have_made,
    generate_username,
    name_parts,
)

ENV = make_environment()


def template(source: str):
    return compile_template(ENV, source, file="m.yaml", line=1, path="users.username")


def policy(*patterns: str, numbered: str | None = None, **options) -> UsernamePolicy:
    return UsernamePolicy(
        patterns=tuple(template(p) for p in patterns),
        numbered=template(numbered) if numbered else None,
        **options,
    )


DEFAULT = policy(
    "{{ first }}{{ last[:1] }}",
    "{{ first }}{{ middle_initials }}{{ last[:1] }}",
    "{{ first[:3] }}{{ last[:3] }}",
    numbered="{{ first }}{{ last[:1] }}{{ n }}",
)


def make(given: str, surname: str, taken: set[str], rules: UsernamePolicy = DEFAULT) -> str:
    """Generate a username and take it, as the mapping does for each new person."""
    name = generate_username(
        name_parts(given, surname, None), rules, taken.__contains__, label=f"person {given}"
    )
    taken.add(name)
    return name


def test_name_parts():
    assert name_parts("Anne Marie Louise", "Hansen-Sørensen", "Søs") == {
        "first": "anne",
        "middle": ["marie", "louise"],
        "given": "annemarielouise",
        "last": "hansensoerensen",
        "surnames": ["hansensoerensen"],
        "middle_initials": "ml",
        "nickname": "soes",
    }


def test_name_parts_of_several_surnames_and_odd_characters():
    parts = name_parts("Jean-Luc", "de la Cour O'Neill", None)
    assert parts["first"] == "jeanluc"
    assert parts["surnames"] == ["de", "la", "cour", "oneill"]
    assert parts["last"] == "oneill"
    assert parts["nickname"] == ""


@pytest.mark.parametrize(
    ("given", "surname", "expected"),
    [
        ("Søren", "Ærø", "soeren.aeroe"),
        ("Åse", "Øster", "aase.oester"),
        ("Émile", "Müller", "emile.muller"),
        ("Zoë", "Brønd", "zoe.broend"),
        ("Bjørn", "Straße", "bjoern.strasse"),
        ("Αλέξανδρος", "Παπαδόπουλος", "alexandros.papadopoylos"),
        ("Пётр", "Чайковский", "petr.chaykovskiy"),
        ("小龙", "李", "xiaolong.li"),
        ("Anne 🙂", "Hansen", "anne.hansen"),
        ("Anne", "", "anne"),  # no trailing dot
    ],
)
def test_every_script_is_transliterated_and_pattern_dots_kept(given, surname, expected):
    full = policy("{{ first }}.{{ last }}", max_length=30)
    assert make(given, surname, set(), full) == expected


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("{{ first }}.{{ last }}", "anne.hansen"),
        ("{{ first }}-{{ last }}", "anne-hansen"),
        ("{{ first }}_{{ last }}", "anne_hansen"),
        ("{{ first }}.{{ middle_initials }}.{{ last }}", "anne.hansen"),  # no middle name
        ("{{ first|upper }}.{{ last }}-{{ 'Ø' }}", "anne.hansen"),  # cut, no trailing dash
        ("{{ first }} {{ last }}!", "annehansen"),  # other characters go
        (".{{ first }}{{ last }}.", "annehansen"),
        ("{{ first }}.{{ last[:5] }}.{{ 'xx' }}", "anne.hanse"),  # cut, no trailing dot
    ],
)
def test_separators_a_pattern_puts_in_are_kept(pattern, expected):
    assert make("Anne", "Hansen", set(), policy(pattern, max_length=11)) == expected


@pytest.mark.parametrize(("given", "surname"), [("🙂", ""), ("🙂", "🎉"), ("", ""), ("123", "!")])
def test_a_name_without_letters_says_so(given, surname):
    with pytest.raises(UsernameError) as caught:
        make(given, surname, set())
    assert caught.value.message == "the name has no letters to make a username from"
    assert str(caught.value) == f"person {given}: the name has no letters to make a username from"


def test_same_name_gets_different_usernames():
    taken: set[str] = set()
    names = [make("Jens", "Hansen", taken) for _ in range(4)]
    assert names == ["jensh", "jenhan", "jensh2", "jensh3"]


def test_middle_names_give_a_distinct_candidate():
    taken = {"annes"}
    assert make("Anne Marie", "Sørensen", taken) == "annems"


def test_forbidden_words_are_skipped_case_insensitively():
    rules = policy("{{ first }}", "{{ first }}{{ last[:1] }}", forbidden=frozenset({"Root"}))
    assert make("Root", "Hansen", set(), rules) == "rooth"
    assert make("Rooth", "X", set(), rules) == "rooth"  # exact word, not a substring


def test_max_length_cuts_the_name():
    rules = policy("{{ given }}{{ last }}", max_length=8)
    assert make("Anne Marie", "Sørensen", set(), rules) == "annemari"


def test_max_length_keeps_the_number_and_cuts_the_stem():
    rules = policy("{{ given }}{{ last }}", numbered="{{ given }}{{ last }}{{ n }}", max_length=8)
    taken: set[str] = set()
    names = [make("Anne Marie", "Sørensen", taken, rules) for _ in range(11)]
    assert names[:3] == ["annemari", "annemar2", "annemar3"]
    assert names[-1] == "annema11"
    assert all(len(name) <= 8 for name in names)
    assert len(set(names)) == len(names)


def test_empty_candidates_are_skipped():
    rules = policy("{{ nickname }}", "{{ first }}", numbered="{{ first }}{{ n }}")
    assert make("Anne", "Hansen", set(), rules) == "anne"
    with pytest.raises(UsernameError, match=r"^person Anne: no free username"):
        make("Anne", "Hansen", set(), policy("{{ nickname }}", numbered="{{ nickname }}{{ n }}"))


def test_deterministic():
    taken = {"jensh", "jenhan"}
    first = generate_username(
        name_parts("Jens", "Hansen", None), DEFAULT, taken.__contains__, label="x"
    )
    again = generate_username(
        name_parts("Jens", "Hansen", None), DEFAULT, taken.__contains__, label="x"
    )
    assert first == again == "jensh2"


def test_all_numbers_taken_names_the_person():
    taken = {"jensh", "jenhan"} | {f"jensh{n}" for n in range(2, LAST_NUMBER + 1)}
    with pytest.raises(UsernameError) as caught:
        make("Jens", "Hansen", taken)
    assert caught.value.label == "person Jens"
    assert str(caught.value) == (
        "person Jens: no free username: every pattern and number up to 999 "
        "is empty, forbidden or taken"
    )


def test_without_numbered_pattern_running_out_is_an_error():
    with pytest.raises(UsernameError):
        make("Jens", "Hansen", {"jensh"}, policy("{{ first }}{{ last[:1] }}"))


@pytest.mark.parametrize(
    ("username", "given", "surname", "expected"),
    [
        ("jensh", "Jens", "Hansen", True),
        ("jenhan", "Jens", "Hansen", True),  # a later pattern
        ("jensh7", "Jens", "Hansen", True),  # the numbered pattern
        ("jens.hansen", "Jens", "Hansen", False),  # other patterns made it
        ("jensh1000", "Jens", "Hansen", False),
        ("annes", "Anne", "Hansen", False),  # made from a name since changed
    ],
)
def test_could_have_made(username, given, surname, expected):
    parts = name_parts(given, surname, None)
    assert could_have_made(username, parts, DEFAULT, label="x") is expected
