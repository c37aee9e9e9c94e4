"""The sign-in steps: OpenID Connect (authlib's Starlette client: the authorization code
flow with PKCE, state and nonce, the provider found by discovery from its issuer), the
choice between it and a password when both are configured, and signing out.

Nothing of a sign-in but the user's name and whether a claim made them an admin is kept
in the session: no token, no code, no claim else.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
from authlib.integrations.starlette_client import OAuth, OAuthError  # type: ignore[import-untyped]
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.templating import Jinja2Templates

from syncd.config import read_secret
from syncd.config.web import OidcConfig
from syncd.web.auth import PASSWORD_PATH, Access, csrf_token, local_path

log = logging.getLogger("syncd.web")

TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")


class SignInRefused(Exception):
    """The provider signed someone in whom syncd cannot take (no user name, say)."""


def admin_by_claim(claims: Mapping[str, Any], admin_claim: Mapping[str, str]) -> bool:
    """Whether the claim (a string, or a list of strings) holds the admins' value."""
    def holds(name: str, value: str) -> bool:
        found = _claim(claims, name)
        return found == value or (isinstance(found, list) and value in found)

    return any(holds(name, value) for name, value in admin_claim.items())


def _claim(claims: Mapping[str, Any], name: str) -> Any:
    """A claim by name, or by a dotted path into nested claims (realm_access.roles)."""
    if name in claims:
        return claims[name]
    node: Any = claims
    for part in name.split("."):
        node = node.get(part) if isinstance(node, Mapping) else None
    return node


class OidcSignIn:
    """One identity provider and syncd's client there."""

    def __init__(self, config: OidcConfig, public_url: str | None):
        self.config, self.public_url = config, public_url
        secret = read_secret(config.client_secret_file, None, what="web.oidc.client_secret_file")
        self.client = OAuth().register(
            "oidc", client_id=config.client_id, client_secret=secret.get_secret_value(),
            server_metadata_url=f"{config.issuer}/.well-known/openid-configuration",
            client_kwargs={"scope": " ".join(config.scopes), "code_challenge_method": "S256"},
        )

    def redirect_uri(self, request: Request) -> str:
        if self.public_url:
            return f"{self.public_url}/auth/callback"
        return str(request.url_for("auth_callback"))

    async def start(self, request: Request) -> Response:
        """To the provider's sign-in; state, nonce and PKCE verifier wait in the session."""
        response: Response = await self.client.authorize_redirect(request,
                                                                  self.redirect_uri(request))
        return response

    async def finish(self, request: Request) -> tuple[str, bool]:
        """The user's name and whether a claim makes them an admin, from the ID token and
        the userinfo endpoint (where providers often put roles)."""
        metadata = await self.client.load_server_metadata()
        if str(metadata.get("issuer", "")).rstrip("/") != self.config.issuer:
            raise SignInRefused(f"the provider's discovery names issuer "
                                f"{metadata.get('issuer')!r}, not {self.config.issuer!r}")
        token = await self.client.authorize_access_token(request)
        if "userinfo" not in token:
            raise SignInRefused("the provider sent no ID token")
        claims = dict(token["userinfo"])
        if "userinfo_endpoint" in metadata:
            more = await self.client.userinfo(token=token)
            if more.get("sub") != claims.get("sub"):
                raise SignInRefused("userinfo is about another subject than the ID token")
            claims.update(more)
        name = claims.get(self.config.username_claim)
        if not isinstance(name, str) or not name:
            raise SignInRefused(f"no {self.config.username_claim} claim")
        return name, admin_by_claim(claims, self.config.admin_claim)


def signin_routes(access: Callable[[], Access]) -> list[BaseRoute]:
    """/login, /login-password, /auth/callback and /logout (GET: the form, POST: out)."""

    async def login(request: Request) -> Response:
        current, wanted = access(), local_path(request.query_params.get("next"))
        if current.oidc is not None and (current.htpasswd is None
                                         or request.query_params.get("via") == "oidc"):
            request.session["next"] = wanted
            return await current.oidc.start(request)
        if current.oidc is not None:
            return TEMPLATES.TemplateResponse(request, "signin.html",
                                              {"next": quote(wanted, safe="")})
        return RedirectResponse(f"{PASSWORD_PATH}?next={quote(wanted, safe='')}", 303)

    async def login_password(request: Request) -> Response:
        # signed in by the time it runs (it is no open path): the browser now has the
        # password for every page, as it was asked for at the site's root
        return RedirectResponse(local_path(request.query_params.get("next")), 303)

    async def callback(request: Request) -> Response:
        oidc = access().oidc
        if oidc is None:
            return PlainTextResponse("sign-in by OpenID Connect is not configured\n", 404)
        try:
            name, admin = await oidc.finish(request)
        except (OAuthError, SignInRefused) as exc:
            log.warning("web sign-in refused: %s", _why(exc))
            return _failed(401, "the sign-in failed")
        except httpx.HTTPError as exc:
            log.error("web sign-in: the identity provider %s cannot be reached: %s",
                      oidc.config.issuer, type(exc).__name__)
            return _failed(502, "the identity provider cannot be reached")
        wanted = local_path(request.session.get("next"))
        request.session.clear()  # the sign-in's state and anything from before it
        request.session["user"] = {"name": name, "admin": admin}
        csrf_token(request.session)
        log.info("web sign-in: %s (OpenID Connect, %s)", name, access().role(name, admin))
        return RedirectResponse(wanted, 303)

    async def logout(request: Request) -> Response:
        signed_in = request.session.get("user")
        if request.method == "POST":  # the CSRF guard has checked the form's token
            if isinstance(signed_in, dict):
                log.info("web sign-out: %s", signed_in.get("name"))
            request.session.clear()
            return RedirectResponse("/logout", 303)
        token = csrf_token(request.session) if signed_in else ""
        return TEMPLATES.TemplateResponse(request, "signin_logout.html",
                                          {"signed_in": bool(signed_in), "csrf_token": token})

    return [
        Route("/login", login),
        Route(PASSWORD_PATH, login_password),
        Route("/auth/callback", callback, name="auth_callback"),
        Route("/logout", logout, methods=["GET", "POST"]),
    ]


def _why(exc: Exception) -> str:
    """What went wrong, in the provider's words or ours: never a code or a token."""
    if isinstance(exc, OAuthError):
        return f"{exc.error}" + (f" ({exc.description})" if exc.description else "")
    return str(exc)


def _failed(status: int, what: str) -> Response:
    return PlainTextResponse(f"{what}: sign in again at /login\n", status)
