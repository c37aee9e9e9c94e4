"""The `web:` block on load, and how a claim makes an admin (no server needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from syncd.config import load_config
from syncd.config.web import WebConfig, restart_keys
from syncd.errors import ConfigError
from syncd.web.auth import local_path
from syncd.web.signin import admin_by_claim
from tests.htpasswd import write_htpasswd


def config_with(tmp_path: Path, web: str) -> Path:
    (tmp_path / "org.json").write_text("{}")
    path = tmp_path / "config.yaml"
    path.write_text("sources:\n  - name: hr\n    type: snapshot\n    path: org.json\n"
                    f"web:\n{web}", encoding="utf-8")
    return path


def problems_of(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config(path)
    return [str(p) for p in info.value.problems]


def test_the_contracts_web_block_loads(tmp_path):
    secret = tmp_path / "oidc.secret"
    secret.write_text("s")
    secret.chmod(0o600)
    write_htpasswd(tmp_path / "web.htpasswd", {"alice": "a"})
    config = load_config(config_with(tmp_path, f"""\
  htpasswd: {tmp_path / "web.htpasswd"}
  admins: [alice]
  oidc:
    issuer: https://sso.example.org/auth/realms/municipality
    client_id: syncd-web
    client_secret_file: {secret}
    admin_claim: {{roles: syncd-admin}}
"""))
    assert config.web is not None and config.web.oidc is not None
    assert config.web.admins == ["alice"]
    assert config.web.oidc.admin_claim == {"roles": "syncd-admin"}
    assert config.web.oidc.username_claim == "preferred_username"
    assert config.web.cookie_secure


@pytest.mark.parametrize(("web", "problem"), [
    ("  admins: [alice]\n", "give htpasswd, oidc or both"),
    ("  htpasswd: /x\n  public_url: http://syncd.example.org\n", "must be https://"),
    ("  oidc:\n    issuer: http://sso.example.org\n    client_id: c\n"
     "    client_secret_file: /s\n", "issuer must be https://"),
    ("  oidc:\n    issuer: https://sso.example.org\n    client_id: c\n"
     "    client_secret_file: /s\n    admin_claim: {roles: a, groups: b}\n",
     "one claim and its value"),
    ("  oidc:\n    issuer: https://sso.example.org\n    client_id: c\n"
     "    client_secret_file: /s\n    scopes: [profile]\n", "must include openid"),
    ("  htpasswd: /x\n  admin: [alice]\n", "did you mean 'admins'?"),
])
def test_a_web_block_that_cannot_work_is_refused_on_load(tmp_path, web, problem):
    found = problems_of(config_with(tmp_path, web))
    assert any(problem in p for p in found), found


def test_the_files_a_web_block_names_are_checked_on_load(tmp_path):
    (tmp_path / "oidc.secret").write_text("s")
    (tmp_path / "oidc.secret").chmod(0o644)
    found = problems_of(config_with(tmp_path, """\
  htpasswd: web.htpasswd
  oidc:
    issuer: https://sso.example.org
    client_id: syncd-web
    client_secret_file: oidc.secret
"""))
    assert f"{tmp_path / 'web.htpasswd'}: No such file or directory" in "\n".join(found)
    assert "oidc.secret is readable by others (0644)" in "\n".join(found)


def test_plain_http_is_for_this_machine_only():
    assert not WebConfig(htpasswd=Path("/x"), public_url="http://127.0.0.1:9464").cookie_secure
    assert WebConfig(htpasswd=Path("/x"), public_url="https://syncd.example.org").cookie_secure


def test_a_reload_names_the_web_keys_that_take_a_restart():
    web = WebConfig(htpasswd=Path("/x"))
    assert restart_keys(None, web) == ["web"] and restart_keys(web, None) == ["web"]
    assert restart_keys(web, web.model_copy(update={"admins": ["bob"]})) == []
    assert restart_keys(web, web.model_copy(update={"session_secret_file": Path("/k")})) == [
        "web.session_secret_file"]


@pytest.mark.parametrize(("claims", "admin"), [
    ({"roles": "syncd-admin"}, True),
    ({"roles": ["staff", "syncd-admin"]}, True),
    ({"roles": ["staff"]}, False),
    ({"roles": "syncd-admin-not"}, False),
    ({}, False),
    ({"realm_access": {"roles": ["syncd-admin"]}}, False),  # another claim
])
def test_the_admin_claim_may_be_a_string_or_a_list(claims, admin):
    assert admin_by_claim(claims, {"roles": "syncd-admin"}) is admin


def test_a_nested_claim_is_read_by_its_dotted_path():
    claims = {"realm_access": {"roles": ["syncd-admin"]}}
    assert admin_by_claim(claims, {"realm_access.roles": "syncd-admin"})
    assert not admin_by_claim(claims, {})


@pytest.mark.parametrize(("wanted", "goes_to"), [
    ("/persons/p1?today=2027-01-01", "/persons/p1?today=2027-01-01"),
    ("//evil.example", "/"), ("/\\evil.example", "/"), ("/\t/evil.example", "/"),
    ("https://evil.example/", "/"), ("javascript:alert(1)", "/"), (None, "/"),
    ("///evil.example", "/"), ("////evil.example/x", "/"),  # other sites to a browser
])
def test_after_sign_in_only_a_path_on_this_site(wanted, goes_to):
    assert local_path(wanted) == goes_to


def test_a_wrong_password_costs_a_bcrypt_check_even_after_a_right_one(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Else, once anna has signed in, guesses at her password cost nothing to try."""
    import bcrypt

    from syncd.web.auth import Htpasswd

    passwords = Htpasswd(write_htpasswd(tmp_path / "web.htpasswd", {"anna": "rigtigt"}))
    assert passwords.check("anna", "rigtigt")
    calls = []
    real = bcrypt.checkpw
    monkeypatch.setattr(bcrypt, "checkpw", lambda *a: calls.append(1) or real(*a))
    assert passwords.check("anna", "rigtigt") and calls == []  # remembered
    assert not passwords.check("anna", "forkert") and calls == [1]


def test_a_csrf_token_that_is_not_ascii_is_refused_not_a_crash() -> None:
    import asyncio

    from syncd.web.auth import CsrfGuard

    sent: list[dict] = []

    async def app(scope, receive, send):  # the page: never reached
        raise AssertionError("the page ran")

    async def receive():
        return {"type": "http.request", "body": b"csrf_token=%C3%A9", "more_body": False}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/logout", "headers": [],
             "session": {"csrf": "token"}}
    asyncio.run(CsrfGuard(app)(scope, receive, send))
    assert sent[0]["status"] == 403
