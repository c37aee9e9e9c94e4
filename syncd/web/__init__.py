"""The web view: the organisation's pages, served by the daemon behind sign-in.

`web_app(daemon)` is the whole of it as one Starlette app, which `syncd.daemon.http`
mounts beside the daemon's own endpoints: the security headers, the signed session
cookie, the CSRF guard and the sign-in wrap every page (`auth`), the sign-in steps
(`signin`) and the pages (`pages`) are its routes, the stylesheet is served from
`static/`.
"""

from __future__ import annotations

import logging
import secrets
from pathlib import Path
from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

from syncd.config import read_secret
from syncd.config.web import WebConfig
from syncd.errors import SyncdError
from syncd.web.auth import Access, CsrfGuard, Htpasswd, SecurityHeaders, SignIn
from syncd.web.pages import page_routes
from syncd.web.signin import OidcSignIn, signin_routes

if TYPE_CHECKING:
    from syncd.daemon.service import Daemon

log = logging.getLogger("syncd.web")

STATIC = Path(__file__).parent / "static"
SESSION_HOURS = 8  # a sign-in lasts this long, then the provider (or password) again
MIN_SESSION_SECRET = 32  # characters: `openssl rand -hex 32` gives 64


def web_app(daemon: Daemon) -> Starlette:
    """The web view for the daemon's `web:` config (which must be set)."""
    config = daemon.config.web
    if config is None:
        raise SyncdError("the web view needs a web: block in the config")
    access = LiveAccess(daemon, build_access(config, None))
    secure = config.cookie_secure
    routes: list[BaseRoute] = [
        *signin_routes(access),
        Mount("/static", StaticFiles(directory=STATIC, check_dir=False), name="static"),
        *page_routes(daemon),
    ]
    return Starlette(routes=routes, middleware=[
        Middleware(SecurityHeaders),
        Middleware(SessionMiddleware, secret_key=_session_secret(config),
                   session_cookie="__Host-syncd" if secure else "syncd",
                   max_age=SESSION_HOURS * 3600, same_site="lax", https_only=secure),
        Middleware(CsrfGuard),
        Middleware(SignIn, access=access),
    ])


class LiveAccess:
    """The sign-in settings of the running config: after a reload, a new htpasswd file,
    admins or identity provider apply from the next request."""

    def __init__(self, daemon: Daemon, access: Access):
        self.daemon, self.access = daemon, access
        self.seen: WebConfig | None = access.config

    def __call__(self) -> Access:
        config = self.daemon.config.web  # None after a reload: web off takes a restart
        if config is not None and config is not self.seen:
            self.seen = config
            if config != self.access.config:
                self.access = self._rebuilt(config)
        return self.access

    def _rebuilt(self, config: WebConfig) -> Access:
        try:
            return build_access(config, self.access)
        except SyncdError as exc:
            log.error("web: the reloaded sign-in settings cannot be used, the old ones "
                      "stay: %s", exc)
            return self.access


def build_access(config: WebConfig, old: Access | None) -> Access:
    """Access for `config`, keeping what `old` has of it (a password file's cache, the
    identity provider's discovery)."""
    kept_file = old.htpasswd if old and old.htpasswd and old.htpasswd.path == config.htpasswd \
        else None
    htpasswd = kept_file or (Htpasswd(config.htpasswd) if config.htpasswd else None)
    same_provider = old and (old.config.oidc, old.config.public_url) == (config.oidc,
                                                                         config.public_url)
    kept_provider = old.oidc if old and same_provider else None
    oidc = kept_provider or (OidcSignIn(config.oidc, config.public_url) if config.oidc else None)
    return Access(config, htpasswd, oidc)


def _session_secret(config: WebConfig) -> str:
    if config.session_secret_file is None:
        return secrets.token_urlsafe(32)  # sessions end when the daemon restarts
    secret = read_secret(config.session_secret_file, None,
                         what="web.session_secret_file").get_secret_value()
    if len(secret) < MIN_SESSION_SECRET:
        raise SyncdError(f"web.session_secret_file: want {MIN_SESSION_SECRET} characters "
                         f"or more (openssl rand -hex 32), got {len(secret)}")
    return secret
