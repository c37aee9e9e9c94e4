"""Mapping files: loading, FILE:LINE errors, and `syncd validate` rendering them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from syncd.cli import main
from syncd.errors import ConfigError
from syncd.mapping.rules import load_mapping
from syncd.mapping.templating import TemplateError
from tests.conftest import REPO, write_json

SHIPPED = REPO / "mappings" / "openldap.yaml"


def mapping_with(tmp_path: Path, old: str, new: str) -> Path:
    text = SHIPPED.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "mapping.yaml"
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path


def line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


def test_shipped_mapping_loads():
    mapping = load_mapping(SHIPPED)
    assert mapping.anchor == "employeeNumber"
    assert mapping.username_attribute == "uid"
    assert {"cn", "mail", "manager", "member"} <= mapping.read_attributes()


def test_template_syntax_error_has_file_and_line(tmp_path):
    path = mapping_with(tmp_path, 'sn: "{{ person.surname }}"', 'sn: "{{ person.surname }"')
    with pytest.raises(ConfigError) as info:
        load_mapping(path)
    [problem] = info.value.problems
    assert str(problem).startswith(f"{path}:{line_of(path, 'sn: ')}: users.attributes.sn: ")
    assert "syntax" in problem.message


def test_unknown_mapping_key_has_did_you_mean(tmp_path):
    path = mapping_with(tmp_path, "  disabled_dn:", "  disable_dn:")
    with pytest.raises(ConfigError) as info:
        load_mapping(path)
    messages = [str(p) for p in info.value.problems]
    assert f"{path}:{line_of(path, 'disable_dn')}: users.disable_dn: unknown key; did you mean " \
           "'disabled_dn'?" in messages


@pytest.fixture
def config(tmp_path, tiny_org) -> Path:
    write_json(tmp_path / "org.json", tiny_org)
    (tmp_path / "pw").write_text("x")
    (tmp_path / "pw").chmod(0o600)
    path = tmp_path / "config.yaml"
    path.write_text(f"""store:
  url: sqlite:///store.db
sources:
  - {{name: hr, type: snapshot, path: org.json}}
targets:
  - name: ldap
    type: ldap
    url: ldap://127.0.0.1:1
    bind_dn: cn=admin,dc=example,dc=org
    password_file: pw
    base_dn: dc=example,dc=org
    mapping: {SHIPPED}
    vars: {{mail_domain: kolding.example}}
""")
    return path


def use_mapping(config: Path, mapping: Path) -> None:
    config.write_text(config.read_text().replace(str(SHIPPED), str(mapping)))


def test_validate_compiles_mappings_even_with_an_empty_store(config, tmp_path, capsys):
    mapping = mapping_with(tmp_path, 'sn: "{{ person.surname }}"', 'sn: "{{ person.surname }"')
    use_mapping(config, mapping)
    assert main(["validate", "-c", str(config)]) == 1
    out = capsys.readouterr().out
    assert f"{mapping}:{line_of(mapping, 'sn: ')}: users.attributes.sn: template syntax" in out
    assert not (tmp_path / "store.db").exists()  # validate never creates a store


def test_validate_renders_every_template_against_the_store(config, capsys):
    assert main(["ingest", "-c", str(config)]) == 0
    capsys.readouterr()
    assert main(["validate", "-c", str(config)]) == 0  # port 1: nothing is contacted
    assert "every template rendered against the sources" in capsys.readouterr().out


def test_validate_reports_a_template_that_fails_for_one_person(config, tmp_path, tiny_org,
                                                                capsys):
    tiny_org["engagements"][5]["job_function"] = None  # p5's
    write_json(tmp_path / "org.json", tiny_org)
    mapping = mapping_with(tmp_path, "title: \"{{ primary.job_function or '' }}\"",
                           "title: \"{{ primary.job_function.upper() }}\"")
    use_mapping(config, mapping)
    main(["ingest", "-c", str(config)])
    capsys.readouterr()
    assert main(["validate", "--json", "-c", str(config)]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["valid"] is False
    [problem] = report["problems"]
    assert (problem["file"], problem["line"], problem["path"]) == (
        str(mapping), line_of(mapping, "title:"), "users.attributes.title")
    assert problem["subject"] == "person p5 (Émile Müller)"  # the one without a job function
    assert problem["message"] == "an empty value has no attribute 'upper'"


@pytest.mark.parametrize("payload", [
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ person.__class__.__init__.__globals__ }}",
    "{{ cycler.__init__.__globals__.os.popen('touch /tmp/syncd-pwned').read() }}",
    "{% include '/etc/passwd' %}",
])
def test_template_injection_is_refused(config, tmp_path, capsys, payload):
    mapping = mapping_with(tmp_path, 'sn: "{{ person.surname }}"', f'sn: "{payload}"')
    use_mapping(config, mapping)
    main(["ingest", "-c", str(config)])
    capsys.readouterr()
    assert main(["validate", "-c", str(config)]) == 1
    out = capsys.readouterr().out
    assert f"{mapping}:{line_of(mapping, 'sn: ')}: users.attributes.sn" in out
    assert "root:" not in out
    assert not Path("/tmp/syncd-pwned").exists()


def test_validate_renders_against_a_sample_org_when_the_store_is_empty(config, tmp_path,
                                                                      capsys):
    mapping = mapping_with(tmp_path, 'sn: "{{ person.surname }}"', 'sn: "{{ leave.leave_type }}"')
    use_mapping(config, mapping)
    assert main(["validate", "--json", "-c", str(config)]) == 1
    problems = json.loads(capsys.readouterr().out)["problems"]
    assert problems and all(p["path"] == "users.attributes.sn" for p in problems)
    assert problems[0]["subject"].startswith("person p")  # one of the generated sample org
    assert not (tmp_path / "store.db").exists()


@pytest.mark.parametrize(("block", "offset"), [
    ("|\n      {% if primary %}\n      {{ primary.job_function }\n      {% endif %}", 2),
    ("|\n      {{ primary.job_function }", 1),
    (">\n      {{ primary.job_function }", 1),
    ("\n      \"{{ primary.job_function }\"", 1),  # a quoted scalar on the next line
])
def test_errors_in_block_scalars_are_on_the_right_line(tmp_path, block, offset):
    path = mapping_with(tmp_path, "title: \"{{ primary.job_function or '' }}\"",
                        f"title: {block}")
    with pytest.raises(ConfigError) as info:
        load_mapping(path)
    [problem] = info.value.problems
    assert problem.line == line_of(path, "title:") + offset
    lines = path.read_text().splitlines()
    assert "primary.job_function }" in lines[problem.line - 1]


def test_a_render_error_in_a_block_scalar_is_on_its_line(tmp_path):
    path = mapping_with(tmp_path, "title: \"{{ primary.job_function or '' }}\"",
                        "title: |\n      {% if person %}\n      {{ person.titel }}\n"
                        "      {% endif %}")
    title = load_mapping(path).attributes["title"]
    with pytest.raises(TemplateError) as caught:
        title.render({"person": object()}, label="person p1")
    assert caught.value.problem.line == line_of(path, "person.titel")


def test_a_username_is_never_one_another_attribute_holds_when_the_mapping_says_so(tmp_path):
    """AD: no new sAMAccountName may be the user part of an existing userPrincipalName."""
    from syncd.cycle import _names_in
    from syncd.objects import Entry

    text = SHIPPED.read_text(encoding="utf-8").replace(
        "    max_length: 12\n", "    max_length: 12\n    unique_against: [userPrincipalName]\n")
    path = tmp_path / "m.yaml"
    path.write_text(text, encoding="utf-8")
    found = [Entry("uid=a,dc=x", {"uid": ("Anne",)}),
             Entry("cn=svc,dc=x", {"userPrincipalName": ("JensH@corp.example",)})]
    assert _names_in(found, load_mapping(path)) == {"anne", "jensh"}
    assert _names_in(found, load_mapping(SHIPPED)) == {"anne"}
    assert "userPrincipalName" in load_mapping(path).read_attributes()
