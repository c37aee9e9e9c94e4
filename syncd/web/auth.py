"""No page without a signed-in user: HTTP basic against an htpasswd file, or a session
that OpenID Connect sign-in (`syncd.web.signin`) started; CSRF tokens on every POST;
security headers on every answer.

Each is a plain ASGI middleware, so that no page runs before it and no page needs to
know about it: a page reads `syncd.web.viewer.viewer(request)` and nothing else.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import logging
import os
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, quote, urlsplit

import bcrypt
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from syncd.config.web import WebConfig
from syncd.web.viewer import Role, Viewer

if TYPE_CHECKING:
    from syncd.web.signin import OidcSignIn

log = logging.getLogger("syncd.web")

# paths served to anyone: the sign-in steps themselves, and the stylesheet they use
OPEN_PATHS = ("/login", "/auth/callback", "/logout")
OPEN_PREFIXES = ("/static/",)
PASSWORD_PATH = "/login-password"  # always a password challenge, never a redirect
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
CSRF_FIELD = "csrf_token"
MAX_FORM_BYTES = 16 * 1024  # the sign-out form holds one token
BCRYPT_ENTRY = re.compile(r"^\$2[aby]\$(\d\d)\$[./A-Za-z0-9]{53}$")
BCRYPT_MAX_BYTES = 72  # what bcrypt (and so htpasswd -B) reads of a password
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; base-uri 'none'; form-action 'self'; "
                               "frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


def is_open(path: str) -> bool:
    return path in OPEN_PATHS or path.startswith(OPEN_PREFIXES)


def local_path(target: str | None) -> str:
    """Where to go after signing in: a path on this site, never another site's URL."""
    if not target or not target.isprintable() or "\\" in target or target.startswith("//"):
        return "/"  # `//host` and `///host` are other sites to a browser
    parts = urlsplit(target)
    return target if target.startswith("/") and not (parts.scheme or parts.netloc) else "/"


def csrf_token(session: dict[str, object]) -> str:
    """The session's CSRF token, made on first use; every POST must carry it."""
    token = session.get("csrf")
    if not isinstance(token, str):
        token = session["csrf"] = secrets.token_urlsafe(32)
    return token


# --- the password file ------------------------------------------------------------------


@dataclass(frozen=True)
class _Entries:
    stamp: tuple[int, int, int] | None  # inode, size, mtime: when these change, re-read
    hashes: dict[str, bytes]
    decoy: bytes  # checked for an unknown user, so that timing tells no user names


def _decoy(costs: list[int]) -> bytes:
    return bcrypt.hashpw(b"decoy", bcrypt.gensalt(max(costs, default=5)))


class Htpasswd:
    """An htpasswd file of bcrypt entries (`htpasswd -B`), re-read when it changes.

    A password once checked is remembered as an HMAC under a key of this process, so a
    page load costs one bcrypt check per user and file version, not one per request.
    """

    def __init__(self, path: Path):
        self.path = path
        self._entries = _Entries(None, {}, b"")
        self._key = secrets.token_bytes(32)
        self._checked: dict[str, tuple[bytes, bytes]] = {}  # user -> (hash, HMAC)

    def check(self, user: str, password: str) -> bool:
        """Whether `password` is `user`'s; blocking (bcrypt), so run it in a thread."""
        entries = self._current()
        hashed = entries.hashes.get(user)
        secret = password.encode()[:BCRYPT_MAX_BYTES]
        proof = hmac.new(self._key, secret, "sha256").digest()
        known = self._checked.get(user)
        if hashed is not None and known is not None and known[0] == hashed \
                and hmac.compare_digest(known[1], proof):
            return True  # the last right password; any other costs a bcrypt check
        right = bcrypt.checkpw(secret, hashed or entries.decoy) and hashed is not None
        if right and hashed is not None:
            self._checked[user] = (hashed, proof)
            log.info("web sign-in: %s (password)", user)
        return right

    def _current(self) -> _Entries:
        stamp = _stamp(self.path)
        if stamp != self._entries.stamp or not self._entries.decoy:
            self._entries = self._read(stamp)
        return self._entries

    def _read(self, stamp: tuple[int, int, int] | None) -> _Entries:
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            why = exc.strerror if isinstance(exc, OSError) else "not UTF-8"
            log.error("web.htpasswd %s: cannot read it (%s): no password sign-in", self.path,
                      why)
            lines = []
        hashes, costs = {}, []
        for number, line in enumerate(lines, 1):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            user, colon, hashed = line.strip().partition(":")
            found = BCRYPT_ENTRY.match(hashed)
            if not (user and colon and found):  # without a colon, the line is no user name
                log.warning("%s:%d: %s is not a bcrypt entry (write it with htpasswd -B); "
                            "refused", self.path, number,
                            repr(user) if user and colon else "the line")
                continue
            hashes[user] = hashed.encode()
            costs.append(int(found.group(1)))
        return _Entries(stamp, hashes, _decoy(costs))


def _stamp(path: Path) -> tuple[int, int, int] | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_ino, info.st_size, info.st_mtime_ns


# --- who is asking ----------------------------------------------------------------------


def _basic_credentials(authorization: str) -> tuple[str, str] | None:
    scheme, _, encoded = authorization.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, colon, password = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return (user, password) if colon else None


@dataclass
class Access:
    """Who may sign in, from one version of the `web:` config."""

    config: WebConfig
    htpasswd: Htpasswd | None
    oidc: OidcSignIn | None

    def role(self, name: str, admin_by_claim: bool = False) -> Role:
        return "admin" if admin_by_claim or name in self.config.admins else "reader"

    async def viewer(self, request: Request) -> Viewer | None:
        """The signed-in user: a password in the request, else the session's sign-in."""
        authorization = request.headers.get("Authorization")
        if authorization and self.htpasswd is not None:
            return await self._basic(self.htpasswd, authorization)
        signed_in = request.session.get("user")
        if isinstance(signed_in, dict) and isinstance(signed_in.get("name"), str):
            return Viewer(signed_in["name"], self.role(signed_in["name"],
                                                       signed_in.get("admin") is True))
        return None

    async def _basic(self, htpasswd: Htpasswd, authorization: str) -> Viewer | None:
        credentials = _basic_credentials(authorization)
        if credentials is None:
            log.warning("web sign-in refused: a malformed Authorization header")
            return None
        user, password = credentials
        if not await run_in_threadpool(htpasswd.check, user, password):
            log.warning("web sign-in refused for %r: wrong user name or password", user)
            return None
        return Viewer(user, self.role(user))

    def refusal(self, request: Request) -> Response:
        """Sign in first: to the sign-in page for a browser's GET when there is an
        identity provider, else 401 (with a password challenge when there is a file)."""
        if (self.oidc is not None and request.method in ("GET", "HEAD")
                and "Authorization" not in request.headers
                and request.url.path != PASSWORD_PATH):
            wanted = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"/login?next={quote(wanted, safe='')}", 302)
        challenge = {"WWW-Authenticate": 'Basic realm="syncd"'}
        return PlainTextResponse("sign in first\n", 401,
                                 challenge if self.htpasswd is not None else None)


class SignIn:
    """Puts the signed-in Viewer on `request.state.viewer`, or answers 401 or a redirect
    to sign in, with nothing of the page."""

    def __init__(self, app: ASGIApp, access: Callable[[], Access]):
        self.app, self.access = app, access

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or is_open(scope["path"]):
            await self.app(scope, receive, send)
            return
        access = self.access()
        request = Request(scope, receive)
        found = await access.viewer(request)
        if found is None:
            await access.refusal(request)(scope, receive, send)
            return
        scope.setdefault("state", {})["viewer"] = found
        await self.app(scope, receive, send)


# --- forms and headers ------------------------------------------------------------------


class CsrfGuard:
    """Every POST (any unsafe method) carries the session's CSRF token as the form field
    `csrf_token`, or is refused 403 before any page sees it."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive)
        expected = scope.get("session", {}).get("csrf")
        given = parse_qs(body.decode("latin-1")).get(CSRF_FIELD, [""])[0] if body else ""
        if not (isinstance(expected, str)
                and hmac.compare_digest(given.encode(), expected.encode())):
            log.warning("web: %s %r refused: no valid CSRF token", scope["method"],
                        scope["path"])
            await PlainTextResponse("this form has expired: reload the page\n", 403)(
                scope, receive, send)
            return
        await self.app(scope, _replay(body, receive), send)


async def _read_body(receive: Receive) -> bytes:
    body = b""
    while len(body) <= MAX_FORM_BYTES:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            return body
    return b""  # too large for a form of ours: no token


def _replay(body: bytes, receive: Receive) -> Receive:
    """The request body again, for the page, after the guard has read it."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replayed


class SecurityHeaders:
    """The headers every web answer carries: no framing, no inline script, no referrer,
    and pages not stored by browsers or proxies (they hold personal data)."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = scope["path"].startswith(OPEN_PREFIXES)

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers[name] = value
                if not static:
                    headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, with_headers)
