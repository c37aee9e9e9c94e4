"""Mapping templates: the filters, strictness, error locations and the sandbox."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from syncd.errors import Problem, group_problems
from syncd.mapping.templating import (
    TemplateError,
    compile_expression,
    compile_template,
    filter_escape,
    initials,
    make_environment,
    slug,
    translit,
)
from syncd.org import Engagement, Person

ENV = make_environment()
LABEL = "person p0042 (Anne Sørensen)"


def render(source: str, line: int = 1, **context: Any) -> str:
    template = compile_template(
        ENV, source, file="mappings/openldap.yaml", line=line, path="users.attributes.mail"
    )
    return template.render(context, label=LABEL)


def evaluate(source: str, line: int = 1, **context: Any) -> Any:
    expression = compile_expression(
        ENV, source, file="mappings/openldap.yaml", line=line, path="users.when"
    )
    return expression.evaluate(context, label=LABEL)


def problem(source: str, line: int = 1, **context: Any) -> Problem:
    with pytest.raises(TemplateError) as caught:
        render(source, line, **context)
    return caught.value.problem


def anne() -> Person:
    return Person(id="p0042", given_name="Anne", surname="Sørensen", extra={"cpr": "x"})


# --- filters ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Søren Ærø", "Soeren Aeroe"),
        ("Åse Blåbær", "Aase Blaabaer"),
        ("ÆØÅ æøå", "AeOeAa aeoeaa"),
        ("Émile Müller", "Emile Muller"),
        ("Straße", "Strasse"),
        ("Zoë Ångström-Čapek", "Zoe Aangstrom-Capek"),
        ("Guðrún Þórsdóttir", "Gudrun Thorsdottir"),
        ("Li 李", "Li Li"),
        ("Αλέξανδρος Παπαδόπουλος", "Alexandros Papadopoylos"),
        ("Пётр Чайковский", "Petr Chaykovskiy"),
        ("李小龙", "LiXiaoLong"),
        ("Anne 🙂", "Anne "),
        ("🙂", ""),
        ("plain", "plain"),
    ],
)
def test_translit(text, expected):
    assert translit(text) == expected
    assert render("{{ name|translit }}", name=text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Børn og Unge", "boern-og-unge"),
        ("Ærtebjerg Skole", "aertebjerg-skole"),
        ("  IT / Drift & Support  ", "it-drift-support"),
        ("Café №1", "cafe-no1"),
        ("---", ""),
    ],
)
def test_slug(text, expected):
    assert slug(text) == expected


# dn_escape's table is tests/test_dn.py's (it is escape_dn_value).


def test_dn_escape_in_a_template():
    dn = render("uid={{ uid|dn_escape }},ou=people", uid="#admin, ")
    assert dn == r"uid=\#admin\,\ ,ou=people"


@pytest.mark.parametrize(
    ("value", "expected"),
    [  # RFC 4515 section 4 examples
        ("Parens R Us (for all your needs)", r"Parens R Us \28for all your needs\29"),
        ("*", r"\2a"),
        (r"C:\MyFile", r"C:\5cMyFile"),
        ("\0", r"\00"),
        ("Sørensen", "Sørensen"),
    ],
)
def test_filter_escape(value, expected):
    assert filter_escape(value) == expected


def test_initials():
    assert initials("Anne Marie Sørensen") == "AMS"
    assert initials("anne-marie  hansen") == "AMH"
    assert render("{{ name|initials(lower=True) }}", name="Anne Marie Sørensen") == "ams"
    assert initials("") == ""


def test_dates():
    assert render("{{ d|date }}", d=date(2025, 3, 3)) == "2025-03-03"
    assert render("{{ d|isodate('%d.%m.%Y') }}", d="2025-03-03") == "03.03.2025"
    assert render("{{ d|date('%Y%m%d%H%M%SZ') }}", d="2025-03-03T05:00:00") == "20250303050000Z"
    assert render("{{ d|date }}", d=None) == ""
    assert "3/3/2025" in problem("{{ d|date }}", d="3/3/2025").message


def test_words():
    assert (
        render("{{ n|first_word }}.{{ n|last_word }}", n="Anne Marie  Sørensen") == "Anne.Sørensen"
    )
    assert render("[{{ n|first_word }}{{ n|last_word }}]", n="  ") == "[]"


def test_none_renders_empty_not_as_none():
    assert render("{{ person.nickname }}", person=anne()) == ""


def test_plain_text_renders_as_is():
    assert render("inetOrgPerson") == "inetOrgPerson"
    assert render("top\n") == "top"


def test_expression_returns_python_values():
    assert evaluate("person.surname == 'Sørensen'", person=anne()) is True
    assert evaluate("[person.id, person.given_name|translit]", person=anne()) == ["p0042", "Anne"]
    assert evaluate("person.nickname", person=anne()) is None
    assert evaluate("range(3)|list") == [0, 1, 2]


# --- errors say where and what ---------------------------------------------------------


def test_missing_attribute_names_file_line_path_and_object():
    found = problem("{{ person.emial or 'x' }}", line=42, person=anne(), email="a@b")
    assert str(found) == (
        "mappings/openldap.yaml:42: users.attributes.mail: person p0042 (Anne Sørensen): "
        "person has no attribute 'emial'; did you mean 'email'?"
    )
    assert (found.subject, found.message) == (
        LABEL, "person has no attribute 'emial'; did you mean 'email'?")


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("{{ primary_unti.name }}", "undefined variable 'primary_unti'; did you mean "
                                    "'primary_unit'?"),
        ("{{ jobfunction }}", "undefined variable 'jobfunction'; did you mean 'job_function'?"),
        ("{{ unit_slug }}", "undefined variable 'unit_slug' (known: engagements, "
                            "job_function, person, primary, primary_unit, vars)"),
        ("{{ person.given_nam }}", "person has no attribute 'given_nam'; did you mean "
                                   "'given_name'?"),
        ("{{ person.xyz }}", "person has no attribute 'xyz'"),
        ("{{ primary.jobfunction }}", "primary has no attribute 'jobfunction'; did you mean "
                                      "'job_function'?"),
        ("{{ engagements[0].unti }}", "an engagement has no attribute 'unti'; did you mean "
                                      "'unit'?"),
        ("{{ vars.mail_domian }}", "vars has no key 'mail_domian'; did you mean 'mail_domain'?"),
        ("{{ vars.password }}", "vars has no key 'password' (keys: mail_domain, ou)"),
        ("{{ primary_unit.nmae }}", "an empty value has no attribute 'nmae'"),
        ("{{ person.surname.nmae }}", "a text has no attribute 'nmae'"),
        ("{{ [1][5] }}", "a list has no element 5"),
        ("{{ person.__class__ }}", "'__class__' is not allowed: templates can neither change "
                                   "values nor reach Python internals"),
        ("{{ range(10 ** 9) | list }}", "range() is limited to 100,000 numbers"),
    ],
)
def test_missing_names_suggest_a_spelling_without_python_class_names(source, message):
    primary = Engagement(id="e1", person="p0042", unit="u1", job_function="Lærer")
    context = {"person": anne(), "primary_unit": None, "job_function": "x", "primary": primary,
               "engagements": [Engagement(id="e2", person="p0042", unit="u2")],
               "vars": {"mail_domain": "x", "ou": "y"}}
    assert problem(source, **context).message == message


def test_one_typo_for_everyone_groups_to_one_line():
    template = compile_template(ENV, "{{ person.emial }}", file="m.yaml", line=3, path="p")
    problems = []
    for person in (anne(), Person(id="p17", given_name="Åge", surname="Ørsted")):
        with pytest.raises(TemplateError) as caught:
            template.render({"person": person, "email": None},
                            label=f"person {person.id} ({person.name})")
        problems.append(caught.value.problem)
    [group] = group_problems(problems)
    assert str(group) == ("m.yaml:3: p: person has no attribute 'emial'; did you mean 'email'? "
                          "(2 times: person p0042 (Anne Sørensen), person p17 (Åge Ørsted))")


def test_undefined_is_strict_in_expressions_too():
    for source in ("unit_slug", "[person.emial]", "{'a': nope}"):
        with pytest.raises(TemplateError, match=r"unit_slug|emial|nope"):
            evaluate(source, person=anne())


def test_undefined_can_be_tested_and_defaulted():
    assert render("{{ x is defined }} {{ x|default('-') }}") == "False -"


def test_syntax_error_line_in_a_multi_line_template():
    source = "{% if person %}\n  {{ person.id }}\n  {{ person.id }\n{% endif %}"
    with pytest.raises(TemplateError) as caught:
        compile_template(ENV, source, file="m.yaml", line=10, path="users.dn")
    assert caught.value.problem == Problem(
        "m.yaml", 12, "users.dn", "template syntax: unexpected '}'"
    )


def test_unknown_filter_is_a_compile_error():
    with pytest.raises(TemplateError, match=r"m.yaml:7: users.dn: template syntax: .*'slugg'"):
        compile_template(ENV, "{{ x|slugg }}", file="m.yaml", line=7, path="users.dn")


def test_expression_syntax_errors():
    for source, message in [
        ("1 +", "unexpected 'end of template'"),
        ("a b", "chunk after expression"),
    ]:
        with pytest.raises(TemplateError) as caught:
            compile_expression(ENV, source, file="m.yaml", line=3, path="users.when")
        assert caught.value.problem == Problem(
            "m.yaml", 3, "users.when", f"template syntax: {message}"
        )


def test_render_error_line_in_a_multi_line_template():
    source = "{% for w in words %}\n{{ w }}\n{{ w.nmae }}\n{% endfor %}"
    found = problem(source, line=20, words=["a"])
    assert (found.line, found.path) == (22, "users.attributes.mail")
    assert found.message == "a text has no attribute 'nmae'"


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("{{ 1 / 0 }}", "division by zero"),
        ("{{ 'a' + 1 }}", "can only concatenate"),
    ],
)
def test_every_render_error_becomes_a_template_error(source, message):
    assert message in problem(source, person=anne()).message


# --- the sandbox -----------------------------------------------------------------------

INJECTIONS = [
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ cycler.__init__.__globals__.os.popen('touch MARKER').read() }}",
    "{{ joiner.__init__.__globals__.os.popen('touch MARKER').read() }}",
    "{{ namespace.__init__.__globals__.os.popen('touch MARKER').read() }}",
    "{{ lipsum.__globals__['os'].popen('touch MARKER') }}",
    "{{ self.__init__.__globals__ }}",
    "{{ self._TemplateReference__context.cycler }}",
    "{{ config }}",
    "{{ config.items() }}",
    "{{ request }}",
    "{{ request.application.__globals__.__builtins__ }}",
    "{% include '/etc/passwd' %}",
    "{% import 'os' as os %}{{ os.popen('touch MARKER') }}",
    "{% from 'os' import popen %}{{ popen('touch MARKER') }}",
    "{% extends '/etc/passwd' %}",
    "{{ ''.format.__globals__ }}",
    "{{ '{0.__class__.__init__.__globals__}'.format(person) }}",
    "{{ ('{0.__class__}'|attr('format'))(person) }}",
    "{{ ''|attr('__class__') }}",
    "{{ person|attr('__class__') }}",
    "{{ range(10**9)|list }}",
    "{{ 2 ** 100000000 }}",
    "{{ ((9 ** 99) ** 99) ** 99 }}",
    "{% macro f(x) %}{{ f(x * x) }}{% endmacro %}{{ f(2) }}",
    "{{ 'x' * 10 ** 9 }}",
    "{{ (1).__class__.__base__.__subclasses__() }}",
    "{{ person.__dict__ }}",
    "{{ person.__class__.__init__.__globals__['sys'] }}",
    "{{ range.__self__ }}",
    "{{ dict.__subclasses__() }}",
    "{% set x = person.__setattr__('id', 'x') %}",
    "{% set x = person.extra.update({'cpr': 'stolen'}) %}",
    "{{ person.extra.pop('cpr') }}",
    "{{ person.extra.clear() }}",
    "{{ groups.append('admins') }}",
    "{{ person.extra.__setitem__('cpr', 'stolen') }}",
    "{% set person.id = 'x' %}",
]


@pytest.mark.parametrize("source", INJECTIONS)
def test_injection_fails_without_side_effects(source, tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    person, groups = anne(), ["staff"]
    with pytest.raises(TemplateError):
        render(source, person=person, groups=groups)
    assert list(tmp_path.iterdir()) == []
    assert (person.id, person.extra, groups) == ("p0042", {"cpr": "x"}, ["staff"])


def test_only_safe_globals_are_left():
    assert set(ENV.globals) == {"range", "dict"}
    assert ENV.loader is None


def test_arithmetic_within_limits_still_works():
    assert (
        render("{{ 10 ** 9 }} {{ 'ab' * 2 }} {{ 3 * 4 }} {{ [0] * 2 }}")
        == "1000000000 abab 12 [0, 0]"
    )


# --- render limits ---------------------------------------------------------------------

NESTED = "{% for i in range(99999) %}{% for j in range(99999) %}{% endfor %}{% endfor %}"


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (NESTED, "the template loops more than 100,000 times"),
        ("{% for c in 'x' * 99999 %}{% for d in 'y' * 99999 %}{% endfor %}{% endfor %}",
         "the template loops more than 100,000 times"),
        ("{% macro f() %}{% for i in range(999) %}{% endfor %}{% endmacro %}"
         "{% for i in range(999) %}{{ f() }}{% endfor %}",
         "the template loops more than 100,000 times"),
        ("{% for i in range(99999) %}{{ 'x' * 99 }}{% endfor %}",
         "the template renders more than 100,000 characters"),
    ],
)
def test_render_is_bounded_in_loops_and_size(source, message):
    started = time.monotonic()
    assert problem(source).message == message
    assert time.monotonic() - started < 5


def test_loops_within_the_limits_work_and_each_render_has_its_own_budget():
    source = ("{% for x in items %}{{ loop.index }}/{{ loop.length }}{% else %}none{% endfor %}"
              "{% for i in range(60000) %}{% endfor %}")
    assert render(source, items=["a", "b"]) == "1/22/2"
    assert render(source, items=[]) == "none"  # a second render: the budget is not shared


@pytest.mark.parametrize(("last_day", "expected"), [
    (None, "9223372036854775807"),  # open-ended: never expires
    (date(2026, 11, 30), "134405568000000000"),  # 2026-12-01 00:00 UTC: the day after
    ("2026-11-30", "134405568000000000"),
    (date(1601, 1, 1), "864000000000"),  # one day after AD's epoch
])
def test_ad_account_expires_ends_access_after_the_last_day(last_day, expected):
    assert render("{{ last_day | ad_account_expires }}", last_day=last_day) == expected


@pytest.mark.parametrize(("last_day", "utc"), [
    ("2026-06-30", "2026-06-30T22:00:00"),  # summer time: local midnight is 22:00 UTC
    ("2026-11-30", "2026-11-30T23:00:00"),  # winter: 23:00 UTC
    ("2026-03-28", "2026-03-28T23:00:00"),  # the night clocks go forward
])
def test_ad_account_expires_at_local_midnight_where_people_work(last_day, utc):
    from datetime import datetime

    steps = (datetime.fromisoformat(utc) - datetime(1601, 1, 1)).total_seconds() * 10**7
    text = render("{{ last_day | ad_account_expires('Europe/Copenhagen') }}",
                  last_day=last_day)
    assert text == str(int(steps))


def test_ad_account_expires_names_a_time_zone_it_does_not_know():
    found = problem("{{ last_day | ad_account_expires('Europe/Kolding') }}",
                    last_day="2026-11-30")
    assert "unknown time zone 'Europe/Kolding'" in found.message


@pytest.mark.parametrize(("names", "expected"), [([], "none"), (["anna", "bo"], "anna")])
def test_first_of_nothing_is_none_so_or_gives_a_fallback(names, expected):
    assert render("{{ (names | first) or 'none' }}", names=names) == expected
