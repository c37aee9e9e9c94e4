"""The web view's `web:` block: who may sign in (a password file, an OpenID Connect
provider, or both) and who among them is an admin.

Apart from `model.py` so that the web view reads its settings without the assembled
config's plug-ins.
"""

from __future__ import annotations

from ipaddress import ip_address
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator

from syncd.config.base import Model


def _http_url(value: str, what: str) -> str:
    """https, or plain http to this machine only (a test, or a proxy on the same host)."""
    parts = urlsplit(value)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValueError(f"{what} must be an https:// URL, got {value!r}")
    if parts.scheme == "http" and not _loopback(parts.hostname):
        raise ValueError(f"{what} must be https:// (plain http only on 127.0.0.1 or "
                         f"localhost), got {value!r}")
    return value.rstrip("/")


def _loopback(host: str) -> bool:
    try:
        return host == "localhost" or ip_address(host).is_loopback
    except ValueError:
        return False


class OidcConfig(Model):
    """Sign-in by OpenID Connect's authorization code flow (with PKCE)."""

    issuer: str = Field(description="the provider's issuer URL; discovery is read from "
                                    "{issuer}/.well-known/openid-configuration")
    client_id: str = Field(min_length=1)
    client_secret_file: Path
    admin_claim: dict[str, str] = Field(
        default_factory=dict,
        description="one claim and the value that makes an admin, like {roles: syncd-admin}; "
                    "the claim may be a string or a list of strings",
    )
    username_claim: str = "preferred_username"
    scopes: list[str] = Field(["openid", "profile"],
                              description="asked for at sign-in; must include openid")

    @field_validator("issuer")
    @classmethod
    def _issuer_url(cls, value: str) -> str:
        return _http_url(value, "issuer")

    @field_validator("admin_claim")
    @classmethod
    def _one_claim(cls, value: dict[str, str]) -> dict[str, str]:
        if len(value) > 1:
            raise ValueError(f"one claim and its value, like {{roles: syncd-admin}}, got "
                             f"{len(value)} claims")
        return value

    @field_validator("scopes")
    @classmethod
    def _openid_scope(cls, value: list[str]) -> list[str]:
        if "openid" not in value:
            raise ValueError("must include openid")
        return value


class WebConfig(Model):
    htpasswd: Path | None = Field(None, description="bcrypt entries, as `htpasswd -B` "
                                                    "writes them; re-read when it changes")
    admins: list[str] = Field(default_factory=list,
                              description="user names that are admins; every other "
                                          "signed-in user is a reader")
    oidc: OidcConfig | None = None
    public_url: str | None = Field(
        None, description="where users reach the web view (behind a reverse proxy): the "
                          "sign-in's redirect URI is {public_url}/auth/callback; the session "
                          "cookie is Secure unless this is plain http on this machine",
    )
    session_secret_file: Path | None = Field(
        None, description="the key that signs session cookies; without it a new key each "
                          "start, which signs everyone out on a restart",
    )

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        return None if value is None else _http_url(value, "public_url")

    @model_validator(mode="after")
    def _some_sign_in(self) -> WebConfig:
        if self.htpasswd is None and self.oidc is None:
            raise ValueError("give htpasswd, oidc or both: nobody could sign in")
        return self

    @property
    def cookie_secure(self) -> bool:
        """Secure cookies, except for a public_url in plain http (on this machine)."""
        return self.public_url is None or self.public_url.startswith("https://")


def restart_keys(old: WebConfig | None, new: WebConfig | None) -> list[str]:
    """The web keys a reload cannot change: the web view on or off, and the session
    cookie's key and flags (the rest, sign-in included, applies from the next request)."""
    if (old is None) != (new is None):
        return ["web"]
    if old is None or new is None:
        return []
    return [f"web.{key}" for key in ("session_secret_file", "public_url")
            if getattr(old, key) != getattr(new, key)]
