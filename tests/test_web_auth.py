"""The web view's sign-in, against real `syncd run` processes: HTTP basic against an
htpasswd file, OpenID Connect's whole code flow against a real provider (oidc-provider,
driven with httpx filling in its login form), the CSRF guard, cookies and headers."""

from __future__ import annotations

import re
import signal
from collections.abc import Callable, Iterator
from http.cookies import SimpleCookie
from pathlib import Path

import httpx
import pytest

from syncd.testing.config import write_config
from syncd.testing.oidc import ACCOUNTS, ADMIN_ROLE, OidcProvider
from syncd.testing.server import free_port
from tests.conftest import REPO, TINY_ORG, write_json
from tests.daemon_env import DaemonProcess
from tests.htpasswd import write_htpasswd

PASSWORDS = {"anna": "anna-is-admin-1", "bob": "bob-reads-2"}
PAGES = ["/", "/persons/p1", "/units/skole", "/targets", "/search?q=a"]
ORG_WORDS = ["Kolding", "Søren", "Ærtebjerg", "soren@"]  # what no refusal may show
MEMORY_TARGET = f"""\
  - name: app
    type: memory
    path: app.json
    mapping: {REPO / "mappings" / "memory.yaml"}
    vars:
      mail_domain: kolding.example
"""


class WebDaemon:
    """A config with a memory target and a `web:` block, and its `syncd run`."""

    def __init__(self, root: Path):
        self.root, self.port = root, free_port()
        write_json(root / "org.json", TINY_ORG)
        self.htpasswd = write_htpasswd(root / "web.htpasswd", PASSWORDS)
        self.process: DaemonProcess | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def configure(self, web: str) -> Path:
        config = write_config(self.root, MEMORY_TARGET)
        config.write_text(config.read_text() + f"""\
schedule:
  interval: 1h
http:
  listen: 127.0.0.1:{self.port}
web:
{web}""")
        return config

    def start(self, web: str) -> DaemonProcess:
        self.process = DaemonProcess(self.configure(web), self.port,
                                     self.root / "daemon.log").start()
        return self.process

    def client(self, **options: object) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=10, **options)  # type: ignore[arg-type]

    def logged(self) -> str:
        return (self.root / "daemon.log").read_text()


@pytest.fixture
def web(tmp_path: Path) -> Iterator[WebDaemon]:
    env = WebDaemon(tmp_path)
    yield env
    if env.process is not None:
        env.process.kill()


def basic_only(env: WebDaemon) -> str:
    return f"  htpasswd: {env.htpasswd}\n  admins: [anna]\n"


def with_oidc(provider: OidcProvider, public_url: str, htpasswd: Path | None = None) -> str:
    password_file = f"  htpasswd: {htpasswd}\n  admins: [anna]\n" if htpasswd else ""
    return f"""{password_file}  public_url: {public_url}
  oidc:
    issuer: {provider.issuer}
    client_id: {provider.client_id}
    client_secret_file: {provider.client_secret_file()}
    admin_claim: {{roles: {ADMIN_ROLE}}}
    scopes: [openid, profile, roles]
"""


def assert_no_data(response: httpx.Response) -> None:
    for word in ORG_WORDS:
        assert word not in response.text, (response.request.url, response.text)


def sign_in(web: WebDaemon, client: httpx.Client, user: str, page: str = "/persons/p1",
            password: str | None = None) -> httpx.Response:
    """The whole code flow as a browser goes through it: the page, syncd's redirect to
    the provider, its login form filled in, back through /auth/callback to the page."""
    form_page = client.get(page, follow_redirects=True)
    assert form_page.status_code == 200, form_page.text
    action = re.search(r'action="([^"]+)"', form_page.text)
    assert action, form_page.text
    return client.post(str(form_page.url.join(action.group(1))), follow_redirects=True,
                       data={"login": user, "password": password or ACCOUNTS[user].password})


# --- HTTP basic -----------------------------------------------------------------------


def test_no_page_without_a_password_and_the_daemon_endpoints_stay_open(web):
    daemon = web.start(basic_only(web))
    with web.client() as client:
        for path in [*PAGES, "/no/such/page"]:
            answer = client.get(path)
            assert answer.status_code == 401, path
            assert answer.headers["WWW-Authenticate"] == 'Basic realm="syncd"'
            assert answer.text == "sign in first\n"
            assert answer.headers["X-Frame-Options"] == "DENY"
        assert client.get("/static/none.css").status_code == 404  # no sign-in, no file
        for path in ("/metrics", "/healthz", "/status"):
            assert client.get(path).status_code == 200, path
        assert "syncd_" in client.get("/metrics").text
    assert daemon.stop() == 0


def test_a_password_signs_in_a_reader_and_an_admin(web):
    web.start(basic_only(web))
    with web.client(auth=("bob", PASSWORDS["bob"])) as bob:
        page = bob.get("/")
        assert page.status_code == 200
        assert page.headers["Cache-Control"] == "no-store"
        assert "script-src" not in page.headers["Content-Security-Policy"]
        assert page.headers["Content-Security-Policy"].startswith("default-src 'self'")
        assert page.headers["X-Content-Type-Options"] == "nosniff"
        assert page.headers["Referrer-Policy"] == "no-referrer"
        forbidden = bob.get("/targets")
        assert forbidden.status_code == 403
        assert_no_data(forbidden)
    with web.client(auth=("anna", PASSWORDS["anna"])) as anna:
        assert anna.get("/targets").status_code == 200
    for user, password in (("bob", "wrong"), ("nobody", "x"), ("anna", PASSWORDS["bob"])):
        with web.client(auth=(user, password)) as someone:
            refused = someone.get("/persons/p1")
            assert refused.status_code == 401, user
            assert_no_data(refused)
    logged = web.logged()
    assert "web sign-in: bob (password)" in logged
    assert "web sign-in refused for 'nobody'" in logged  # quoted: no forged log lines
    assert not any(password in logged for password in PASSWORDS.values())


def test_the_password_file_is_read_again_when_it_changes(web):
    md5 = "carol:$apr1$Vh3vB5Lk$c7A0MhrqVWNFfZpaI0HPF/"  # htpasswd -m: refused
    write_htpasswd(web.htpasswd, PASSWORDS, "# a comment", md5)
    web.start(basic_only(web))
    with web.client(auth=("carol", "carol")) as carol:
        assert carol.get("/").status_code == 401
    logged = web.logged()
    assert f"{web.htpasswd}:4: 'carol' is not a bcrypt entry" in logged
    assert "Vh3vB5Lk" not in logged
    with web.client(auth=("bob", PASSWORDS["bob"])) as bob:
        assert bob.get("/").status_code == 200
        write_htpasswd(web.htpasswd, {"anna": PASSWORDS["anna"], "dave": "dave-new-3"})
        assert bob.get("/").status_code == 401  # gone from the file: gone from the site
    with web.client(auth=("dave", "dave-new-3")) as dave:
        assert dave.get("/").status_code == 200


def test_a_reload_applies_new_admins_and_warns_about_a_new_session_key(web):
    daemon = web.start(basic_only(web))
    with web.client(auth=("bob", PASSWORDS["bob"])) as bob:
        assert bob.get("/targets").status_code == 403
        secret = web.root / "session.secret"
        secret.write_text("k" * 40)
        secret.chmod(0o600)
        web.configure(f"  htpasswd: {web.htpasswd}\n  admins: [anna, bob]\n"
                      f"  session_secret_file: {secret}\n")
        daemon.signal(signal.SIGHUP)
        daemon.wait_for(lambda: "reloaded" in web.logged(), "the reload")
        assert bob.get("/targets").status_code == 200
    assert "reload: web.session_secret_file changed; that takes a restart" in web.logged()


# --- OpenID Connect -------------------------------------------------------------------


@pytest.fixture
def oidc_web(web: WebDaemon, oidc_provider: Callable[[str], OidcProvider]
             ) -> tuple[WebDaemon, OidcProvider]:
    provider = oidc_provider(f"{web.url}/auth/callback")
    web.start(with_oidc(provider, web.url))
    return web, provider


def test_openid_connect_signs_in_alice_as_admin_and_bob_as_reader(oidc_web):
    web, provider = oidc_web
    with web.client() as alice:
        answer = sign_in(web, alice, "alice")
        assert answer.status_code == 200
        assert answer.url == f"{web.url}/persons/p1"  # back where she started
        assert alice.get("/targets").status_code == 200
        cookie = alice.cookies["syncd"]
    with web.client() as bob:
        assert sign_in(web, bob, "bob", page="/targets").status_code == 403
        assert bob.get("/").status_code == 200
    with web.client() as mallory:
        refused = sign_in(web, mallory, "alice", password="guess")
        assert refused.status_code == 401  # the provider's form says no; syncd saw nobody
    logged = web.logged()
    assert "web sign-in: alice (OpenID Connect, admin)" in logged
    assert "web sign-in: bob (OpenID Connect, reader)" in logged
    secrets = [provider.client_secret, cookie, *(a.password for a in ACCOUNTS.values())]
    assert not any(secret in logged for secret in secrets)
    assert "code=" not in logged and "eyJ" not in logged  # no code, no JWT


def test_unauthenticated_browsers_are_sent_to_sign_in_with_nothing_else(oidc_web):
    web, _ = oidc_web
    with web.client() as client:
        for path in PAGES:
            answer = client.get(path)
            assert answer.status_code == 302, path
            assert answer.headers["location"].startswith("/login?next=%2F")
            assert answer.content == b""
        to_provider = client.get("/login?next=/units/skole")
        query = httpx.URL(to_provider.headers["location"]).params
        assert query["code_challenge_method"] == "S256"
        assert query["code_challenge"] and query["state"] and query["nonce"]
        assert query["redirect_uri"] == f"{web.url}/auth/callback"


def test_sign_out_is_a_post_with_the_sessions_csrf_token(oidc_web):
    web, _ = oidc_web
    with web.client() as alice:
        sign_in(web, alice, "alice")
        refused = alice.post("/logout")
        assert refused.status_code == 403
        assert alice.post("/logout", data={"csrf_token": "forged"}).status_code == 403
        assert alice.get("/").status_code == 200  # still signed in
        form = alice.get("/logout")
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        assert token, form.text
        out = alice.post("/logout", data={"csrf_token": token.group(1)})
        assert out.status_code == 303
        assert alice.get("/").status_code == 302  # signed out: to sign in again
    assert "POST '/logout' refused: no valid CSRF token" in web.logged()
    assert "web sign-out: alice" in web.logged()


def test_the_session_cookie_is_secure_httponly_and_lax(web, oidc_provider):
    provider = oidc_provider("https://syncd.example.org/auth/callback")
    web.start(with_oidc(provider, "https://syncd.example.org"))
    with web.client() as client:
        answer = client.get("/login?next=/")
        cookie = SimpleCookie(answer.headers["set-cookie"])["__Host-syncd"]
        assert cookie["secure"] and cookie["httponly"]
        assert cookie["samesite"].lower() == "lax"
        assert cookie["path"] == "/"
        assert int(cookie["max-age"]) <= 8 * 3600
        location = httpx.URL(answer.headers["location"])
        assert location.params["redirect_uri"] == "https://syncd.example.org/auth/callback"


def test_with_both_a_browser_may_choose_and_a_password_still_works(web, oidc_provider):
    provider = oidc_provider(f"{web.url}/auth/callback")
    web.start(with_oidc(provider, web.url, htpasswd=web.htpasswd))
    with web.client() as browser:
        choice = browser.get("/units/skole", follow_redirects=True)
        assert "/login?via=oidc&amp;next=%2Funits%2Fskole" in choice.text
        assert browser.get("/login-password").status_code == 401  # the browser's prompt
    with web.client(auth=("anna", PASSWORDS["anna"])) as anna:
        assert anna.get("/login-password?next=/targets", follow_redirects=True
                        ).status_code == 200
