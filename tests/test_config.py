"""Config loading: every problem as FILE:LINE, unknown keys, secrets never shown."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from syncd.cli import main
from syncd.config import load_config, read_secret
from syncd.cycle import load_checked
from syncd.errors import ConfigError
from tests.conftest import REPO, write_json

SECRET = "Sup3r-Secret-Value-42"


def write(tmp_path: Path, text: str, name: str = "config.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def secret_file(tmp_path: Path, mode: int = 0o600) -> Path:
    path = tmp_path / "ldap.secret"
    path.write_text(SECRET + "\n")
    path.chmod(mode)
    return path


def ldap_target(password_line: str = "password_file: ldap.secret") -> str:
    return f"""
targets:
  - name: ldap
    type: ldap
    url: ldap://127.0.0.1:389
    bind_dn: cn=admin,dc=example,dc=org
    {password_line}
    base_dn: dc=example,dc=org
    mapping: mapping.yaml
"""


def base(tmp_path: Path) -> str:
    (tmp_path / "org.json").write_text("{}")
    (tmp_path / "mapping.yaml").write_text("{}")
    return "sources:\n  - name: hr\n    type: snapshot\n    path: org.json\n"


def problems_of(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config(path)
    return [str(p) for p in info.value.problems]


@pytest.fixture
def example_secret(monkeypatch):
    """config.example.yaml reads the LDAP password from the environment."""
    monkeypatch.setenv("SYNCD_LDAP_PASSWORD", SECRET)


def test_example_config_is_valid(capsys, example_secret):
    assert main(["validate", "-c", str(REPO / "config.example.yaml")]) == 0
    assert "valid" in capsys.readouterr().out


def test_config_from_environment_variable(monkeypatch, capsys, example_secret):
    monkeypatch.setenv("SYNCD_CONFIG", str(REPO / "config.example.yaml"))
    assert main(["validate", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"valid": True, "problems": [], "notices": []}


def test_relative_paths_follow_the_config_file(tmp_path):
    secret_file(tmp_path)
    config = load_config(write(tmp_path, base(tmp_path) + ldap_target()
                               + "store:\n  url: sqlite:///state/store.db\n"))
    assert config.sources[0].path == tmp_path / "org.json"
    assert config.targets[0].mapping == tmp_path / "mapping.yaml"
    assert config.store.url == f"sqlite:///{tmp_path}/state/store.db"
    assert read_secret(config.targets[0].password_file, None, what="t").get_secret_value() == SECRET


def test_unknown_keys_are_errors_with_did_you_mean(tmp_path):
    path = write(tmp_path, base(tmp_path) + "safty:\n  max_deletes: 5\n"
                 "schedule:\n  intervall: 5m\n")
    assert problems_of(path) == [
        f"{path}:5: safty: unknown key; did you mean 'safety'?",
        f"{path}:8: schedule.intervall: unknown key; did you mean 'interval'?",
    ]


def test_every_problem_is_reported_with_its_line(tmp_path):
    secret_file(tmp_path)
    text = base(tmp_path) + ldap_target() + """
safety:
  max_delete_ratio: 10
  max_deletes: -1
schedule:
  interval: soon
"""
    text = text.replace("url: ldap://127.0.0.1:389", "url: http://127.0.0.1:389")
    problems = problems_of(write(tmp_path, text))
    assert len(problems) == 4
    assert problems[0].endswith(
        ":9: targets[0].url: must start with ldap://, ldaps:// or ldapi://, "
        "got 'http://127.0.0.1:389'"
    )
    assert ":16: safety.max_delete_ratio: Input should be less than or equal to 1, got 10" in (
        problems[1])
    assert ":17: safety.max_deletes: Input should be greater than or equal to 0, got -1" in (
        problems[2])
    assert ":19: schedule.interval: must be a number and a unit" in problems[3]


def test_missing_required_keys_and_wrong_source_type(tmp_path):
    path = write(tmp_path, "sources:\n  - name: hr\n    type: ftp\n")
    [problem] = problems_of(path)
    assert problem.startswith(f"{path}:2: sources[0]:")
    assert "'snapshot', 'csv', 'http'" in problem
    path = write(tmp_path, "sources:\n  - name: hr\n    type: snapshot\n")
    assert problems_of(path) == [f"{path}:2: sources[0].path: required key is missing"]


def test_yaml_syntax_error_and_duplicate_key_have_lines(tmp_path):
    path = write(tmp_path, "sources:\n  - name: hr\n   type: [\n")
    [problem] = problems_of(path)
    assert problem.startswith(f"{path}:3: YAML syntax")
    path = write(tmp_path, base(tmp_path) + "safety:\n  max_deletes: 1\n  max_deletes: 2\n")
    assert problems_of(path) == [
        f"{path}:7: safety.max_deletes: duplicate key (the earlier value would be silently lost)"
    ]


def test_missing_files_are_named(tmp_path):
    path = write(tmp_path, "sources:\n  - name: hr\n    type: snapshot\n    path: nope.json\n")
    assert problems_of(path) == [
        f"{path}:4: sources[0].path: {tmp_path / 'nope.json'}: no such file or folder"
    ]
    assert problems_of(tmp_path / "absent.yaml") == [f"{tmp_path / 'absent.yaml'}: no such file"]


def test_inline_secret_is_refused_and_never_echoed(tmp_path, capsys):
    path = write(tmp_path, base(tmp_path) + ldap_target(f"password: {SECRET}"))
    assert main(["validate", "-c", str(path)]) == 1
    out, err = capsys.readouterr()
    assert "targets[0].password: secrets are never inline: use ${env:NAME}" in out
    assert SECRET not in out + err
    assert main(["validate", "--json", "-c", str(path)]) == 1
    out, err = capsys.readouterr()
    report = json.loads(out)
    assert report["valid"] is False
    assert report["problems"][0]["line"] == 11
    assert report["problems"][0]["path"] == "targets[0].password"
    assert SECRET not in out + err


def test_secret_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("LDAP_PW", SECRET)
    config = load_config(write(tmp_path, base(tmp_path) + ldap_target("password: ${env:LDAP_PW}")))
    secret = read_secret(None, config.targets[0].password, what="t")
    assert secret.get_secret_value() == SECRET
    assert SECRET not in repr(secret) + repr(config)


def test_world_readable_secret_file_is_refused(tmp_path, capsys):
    secret_file(tmp_path, 0o644)
    path = write(tmp_path, base(tmp_path) + ldap_target())
    assert main(["validate", "-c", str(path)]) == 1
    out, err = capsys.readouterr()
    assert (f"{path}:11: targets[0].password_file: ldap.secret is readable by others (0644), "
            "want 0640 or less") in out
    assert SECRET not in out + err
    assert "1 problem(s) in 1 file(s); nothing was written to any target" in out


def test_password_and_password_file_together_is_an_error(tmp_path, monkeypatch):
    monkeypatch.setenv("X", SECRET)
    secret_file(tmp_path)
    target = ldap_target("password_file: ldap.secret\n    password: ${env:X}")
    [problem] = problems_of(write(tmp_path, base(tmp_path) + target))
    assert "targets[0]: give exactly one of password_file or password" in problem


def test_duplicate_names(tmp_path):
    text = base(tmp_path) + "  - name: hr\n    type: snapshot\n    path: org.json\n"
    [problem] = problems_of(write(tmp_path, text))
    assert "sources: names must be unique, repeated: hr" in problem


def test_csv_field_mapping_names_real_fields(tmp_path):
    text = """sources:
  - name: hr
    type: csv
    path: .
    kinds:
      persons:
        file: p.csv
        fields: {given_nmae: Fornavn}
"""
    [problem] = problems_of(write(tmp_path, text))
    assert "'given_nmae' is not a field of persons; did you mean 'given_name'?" in problem


def test_validate_in_a_subprocess_uses_the_console_entry_point(tmp_path, example_secret):
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "syncd", "validate", "-c", str(REPO / "config.example.yaml")],
        capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert result.returncode == 0, result.stderr


def test_http_kind_paths_are_url_paths_not_files(tmp_path):
    text = """sources:
  - name: api
    type: http
    base_url: https://hr.example.org/api/
    kinds:
      persons: {path: persons, items: results}
"""
    config = load_config(write(tmp_path, text))
    assert config.sources[0].kinds["persons"].path == "persons"


@pytest.mark.parametrize(("keys", "expected"), [
    ("token_file: t", None),
    ("username: syncd, password_file: t", None),
    ("token_file: t, username: syncd, password_file: t",
     "give a bearer token or a username and password, not both"),
    ("", "give exactly one of token_file or token"),
    ("token_file: t, password_file: t", "password and password_file need username"),
    ("token: hunter2", "secrets are never inline"),
])
def test_a_scim_target_signs_in_with_one_secret_from_a_file_or_the_environment(
        tmp_path, keys, expected):
    (tmp_path / "t").write_text("x")
    (tmp_path / "t").chmod(0o600)
    text = base(tmp_path) + f"""targets:
  - {{name: it, type: scim, url: "https://x/scim/v2", mapping: mapping.yaml, {keys}}}
"""
    path = write(tmp_path, text)
    if expected is None:
        assert load_config(path).targets[0].type == "scim"
    else:
        [problem] = problems_of(path)
        assert expected in problem and "hunter2" not in problem


def test_file_problems_come_with_the_schema_problems_in_one_pass(tmp_path):
    secret_file(tmp_path, 0o644)
    path = write(tmp_path, base(tmp_path) + ldap_target() + "safty: {}\n")
    messages = problems_of(path)
    assert len(messages) == 2
    assert "targets[0].password_file: ldap.secret is readable by others (0644)" in messages[0]
    assert "safty: unknown key" in messages[1]


def test_a_bad_crontab_line_is_named(tmp_path):
    path = write(tmp_path, base(tmp_path) + "schedule:\n  cron: '*/15 * * *'\n")
    [problem] = problems_of(path)
    assert problem.startswith(f"{path}:6: schedule.cron: not a crontab line (want 5 fields")


@pytest.mark.parametrize("url", ["postgresql+psycopg://syncd:hunter2@db/syncd",
                                 "postgresql+psycopg://syncd@db/syncd?password=hunter2",
                                 "postgresql+psycopg://syncd@db/syncd?sslpassword=hunter2"])
def test_a_store_url_with_a_password_is_refused_and_not_echoed(tmp_path, capsys, url):
    path = write(tmp_path, base(tmp_path) + f"store:\n  url: {url}\n")
    assert main(["validate", "-c", str(path)]) == 1
    out, err = capsys.readouterr()
    assert "store.url: secrets are never inline" in out
    assert "hunter2" not in out + err


def test_an_unparsable_store_url_is_a_problem_not_a_crash(tmp_path):
    [problem] = problems_of(write(tmp_path, base(tmp_path) + "store:\n  url: 'postgres ql://x'\n"))
    assert "store.url: not a database URL" in problem


@pytest.mark.parametrize(("value", "state"), [(None, "not set"), ("", "empty")])
def test_a_secret_from_an_unset_environment_variable_is_a_problem(tmp_path, monkeypatch,
                                                                  capsys, value, state):
    monkeypatch.delenv("LDAP_PW", raising=False)
    if value is not None:
        monkeypatch.setenv("LDAP_PW", value)
    path = write(tmp_path, base(tmp_path) + ldap_target("password: ${env:LDAP_PW}"))
    assert problems_of(path) == [
        f"{path}:11: targets[0].password: environment variable LDAP_PW is {state}"]
    with pytest.raises(ConfigError):  # what a SIGHUP reload runs: it refuses the same
        load_checked(path)


def test_an_unset_store_password_variable_is_named_and_no_value_shown(tmp_path, monkeypatch,
                                                                       capsys):
    monkeypatch.delenv("PGPW", raising=False)
    monkeypatch.setenv("OTHER", SECRET)
    url = "postgresql+psycopg://syncd:${env:PGPW}@db/syncd"
    path = write(tmp_path, base(tmp_path) + f"store:\n  url: '{url}'\n")
    assert main(["validate", "-c", str(path)]) == 1
    out, err = capsys.readouterr()
    assert f"{path}:6: store.url: environment variable PGPW is not set" in out
    assert SECRET not in out + err


def test_a_bearer_token_variable_is_checked_too(tmp_path, monkeypatch):
    monkeypatch.delenv("HR_TOKEN", raising=False)
    text = """sources:
  - name: api
    type: http
    base_url: https://hr.example.org/api/
    bearer: {token: "${env:HR_TOKEN}"}
    kinds:
      persons: {path: persons}
"""
    assert problems_of(write(tmp_path, text)) == [
        f"{tmp_path / 'config.yaml'}:5: sources[0].bearer.token: "
        "environment variable HR_TOKEN is not set"]


def with_target_keys(tmp_path: Path, **keys: str) -> Path:
    """A config whose LDAP target has `keys` in place of the defaults."""
    secret_file(tmp_path)
    target = ldap_target()
    for key, value in keys.items():
        target = re.sub(rf"^    {key}: .*$", f"    {key}: '{value}'", target, flags=re.M)
        if f"    {key}: " not in target:
            target += f"    {key}: {value}\n"
    return write(tmp_path, base(tmp_path) + target)


@pytest.mark.parametrize(("keys", "message"), [
    ({"base_dn": "example.org"}, "base_dn: not a DN: 'example.org': cannot read "
                                 "'example.org'; want e.g. dc=example,dc=org"),
    ({"base_dn": "dc=example,,dc=org"}, "base_dn: not a DN: 'dc=example,,dc=org': cannot "
                                        "read ',dc=org'"),
    ({"bind_dn": "cn=admin,dc=example,"}, "bind_dn: not a DN: 'cn=admin,dc=example,': "
                                          "cannot read ''"),
    ({"bind_dn": "svc@example.org"}, "bind_dn: 'svc@example.org' is a user principal name, "
                                     "which only Active Directory takes (flavour: ad)"),
])
def test_a_malformed_dn_is_a_problem_on_its_line(tmp_path, keys, message):
    path = with_target_keys(tmp_path, **keys)
    line = 12 if "base_dn" in keys else 10
    [problem] = problems_of(path)
    assert problem.startswith(f"{path}:{line}: targets[0].{message}")
    with pytest.raises(ConfigError):  # and a SIGHUP reload refuses it too
        load_checked(path)


@pytest.mark.parametrize("bind_dn", [
    "cn=syncd\\, service,ou=system,dc=example,dc=org",
    "uid=Søren Ærø,dc=example,dc=org",
    "cn=syncd, dc=example, dc=org",
    "cn=Team #1,dc=example,dc=org",
])
def test_good_bind_names_pass(tmp_path, bind_dn):
    config = load_config(with_target_keys(tmp_path, flavour="openldap", bind_dn=bind_dn))
    assert config.targets[0].bind_dn == bind_dn


@pytest.mark.parametrize("bind_dn", ["svc-syncd@example.org",
                                     "CN=Svc Syncd,OU=Service Accounts,DC=corp,DC=example"])
def test_active_directory_binds_with_a_dn_or_a_user_principal_name(tmp_path, bind_dn):
    config = load_config(with_target_keys(tmp_path, flavour="ad", bind_dn=bind_dn))
    assert config.targets[0].bind_dn == bind_dn


@pytest.mark.parametrize("url", ["ldap://cn=admin:s3cret@127.0.0.1:389",
                                 "ldapx://admin:s3cret@127.0.0.1"])
def test_credentials_in_an_ldap_url_are_refused_and_never_echoed(tmp_path, url):
    [problem] = problems_of(with_target_keys(tmp_path, url=url))
    assert "a URL with credentials in it is refused" in problem
    assert "s3cret" not in problem


def test_validate_groups_alike_problems_and_json_lists_each(tmp_path, capsys, tiny_org):
    secret_file(tmp_path)
    path = write(tmp_path, base(tmp_path) + ldap_target())
    write_json(tmp_path / "org.json", tiny_org)
    mapping = (REPO / "mappings" / "openldap.yaml").read_text(encoding="utf-8")
    (tmp_path / "mapping.yaml").write_text(
        mapping.replace("\"{{ person.given_name }}\"", "\"{{ person.given_nmae }}\""),
        encoding="utf-8")
    assert main(["validate", "-c", str(path)]) == 1
    out = capsys.readouterr().out.splitlines()
    [problem] = [line for line in out if "users.attributes.givenName" in line]
    assert "(4 times: person p1 (Søren Ærø), person p2 (Åse Øster), person p3 (Jens Hansen), " \
           "and 1 more)" in problem
    assert out[out.index(problem) + 1].endswith("|     givenName: \"{{ person.given_nmae }}\"")
    assert main(["validate", "--json", "-c", str(path)]) == 1
    problems = json.loads(capsys.readouterr().out)["problems"]
    assert len([p for p in problems if p["path"] == "users.attributes.givenName"]) == 4


def test_the_files_a_source_names_are_checked_on_load(tmp_path):
    """Each source type says which of its keys name local files; secret files nested in
    a source (basic:, bearer:) are checked for their mode like a target's."""
    secret = tmp_path / "hr.secret"
    secret.write_text(SECRET)
    secret.chmod(0o644)
    path = write(tmp_path, """\
sources:
  - name: exports
    type: csv
    path: exports
    kinds: {persons: {file: persons.csv}}
  - name: api
    type: http
    base_url: https://hr.example.org
    basic: {username: syncd, password_file: hr.secret}
    kinds: {persons: {path: /persons}}
""")
    assert problems_of(path) == [
        f"{path}:4: sources[0].path: {tmp_path / 'exports'}: no such file or folder",
        f"{path}:9: sources[1].basic.password_file: hr.secret is readable by others (0644), "
        "want 0640 or less",
    ]


def test_an_ldap_target_tells_the_plan_and_the_templates_its_base(tmp_path):
    secret_file(tmp_path)
    [target] = load_config(write(tmp_path, base(tmp_path) + ldap_target())).targets
    assert target.describe() == {"flavour": "openldap", "base_dn": "dc=example,dc=org"}
    assert target.template_context() == {"base_dn": "dc=example,dc=org"}


@pytest.mark.parametrize("url", ["https://svc:s3cret@it.example/scim/v2",
                                 "https://it.example/scim/v2?access_token=s3cret"])
def test_a_scim_url_carrying_a_secret_is_refused_without_echoing_it(tmp_path, url):
    (tmp_path / "t").write_text("x")
    (tmp_path / "t").chmod(0o600)
    text = base(tmp_path) + f"""targets:
  - {{name: it, type: scim, url: "{url}", token_file: t, mapping: mapping.yaml}}
"""
    [problem] = problems_of(write(tmp_path, text))
    assert "credentials or a query in the URL are refused" in problem
    assert "s3cret" not in problem
