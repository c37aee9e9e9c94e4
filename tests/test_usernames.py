"""Usernames: lower-case ASCII from the name, unique, never forbidden, deterministic."""

from __future__ import annotations

import pytest

from syncd.mapping.templating import compile_template, make_environment
from syncd.mapping.usernames import (
    LAST_NUMBER,
    UsernameError,
    UsernamePolicy,
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


def test_name_parts_of_an_empty_or_non_latin_name():
    parts = name_parts("李", "", None)
    assert (parts["first"], parts["last"], parts["middle"], parts["given"]) == ("", "", [], "")


@pytest.mark.parametrize(
    ("given", "surname", "expected"),
    [
        ("Søren", "Ærø", "soerenaeroe"),
        ("Åse", "Øster", "aaseoester"),
        ("Émile", "Müller", "emilemuller"),
        ("Zoë", "Brønd", "zoebroend"),
        ("Bjørn", "Straße", "bjoernstrasse"),
    ],
)
def test_letters_are_transliterated(given, surname, expected):
    full = policy("{{ first }}.{{ last }}", max_length=20)
    assert make(given, surname, set(), full) == expected


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


def test_pattern_output_is_cleaned_to_lower_case_ascii():
    rules = policy("{{ first|upper }}.{{ last }}-{{ 'Ø' }}")
    assert make("Anne", "Sørensen", set(), rules) == "annesoerense"


def test_empty_candidates_are_skipped():
    rules = policy("{{ nickname }}", "{{ first }}", numbered="{{ first }}{{ n }}")
    assert make("Anne", "Hansen", set(), rules) == "anne"
    with pytest.raises(UsernameError, match=r"^person 李: no free username"):
        make("李", "", set(), rules)  # a bare number is no username


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
