"""A throw-away OpenID Connect provider for tests: panva's oidc-provider (certified), run
by node from a project folder (tests/oidc: provider.mjs and its node_modules, which
`scripts/install-test-deps` installs with `npm ci`), on 127.0.0.1 on a free port.

One confidential client (`client_id`, `client_secret`, one redirect URI) and the accounts
given (by default alice, an admin by her `roles` claim, and bob, a reader), each signing
in on the provider's own login form with a password.
"""

from __future__ import annotations

import json
import os
import shutil
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Self

from syncd.testing.server import ServerProcess, free_port

ADMIN_ROLE = "syncd-admin"


@dataclass(frozen=True)
class Account:
    password: str
    roles: list[str] = field(default_factory=list)


ACCOUNTS = {
    "alice": Account("alice-correct-horse", [ADMIN_ROLE, "staff"]),
    "bob": Account("bob-battery-staple", ["staff"]),
}


class OidcProvider(ServerProcess):
    log_name = "oidc-provider.log"
    poll_interval = 0.1

    def __init__(self, directory: str | os.PathLike[str] | None, *, project: Path,
                 redirect_uri: str, accounts: dict[str, Account] | None = None,
                 client_id: str = "syncd-web",
                 client_secret: str = "oidc-client-secret-7f3a") -> None:
        super().__init__(directory, prefix="syncd-oidc-", start_timeout=30, stop_timeout=5)
        self.project = project
        self.port = free_port()
        self.redirect_uri = redirect_uri
        self.accounts = ACCOUNTS if accounts is None else accounts
        self.client_id, self.client_secret = client_id, client_secret

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client_secret_file(self) -> Path:
        path = self.directory / "client.secret"
        path.write_text(self.client_secret + "\n", encoding="utf-8")
        path.chmod(0o600)
        return path

    def start(self) -> Self:
        node = shutil.which("node")
        if node is None or not (self.project / "node_modules" / "oidc-provider").is_dir():
            raise RuntimeError(f"the test OpenID provider needs node and `npm ci` in "
                               f"{self.project} (scripts/install-test-deps does both)")
        offset = self._log_size()
        self._spawn_process([node, str(self.project / "provider.mjs"), str(self._settings())],
                            cwd=self.project)
        self._wait_until_ready(offset)
        return self

    def _settings(self) -> Path:
        """The provider's settings, in a 0600 file (they hold the client secret)."""
        path = self.directory / "settings.json"
        path.write_text(json.dumps({
            "port": self.port, "client_id": self.client_id, "client_secret": self.client_secret,
            "redirect_uri": self.redirect_uri,
            "accounts": {name: {"password": a.password, "roles": a.roles}
                         for name, a in self.accounts.items()},
        }), encoding="utf-8")
        path.chmod(0o600)
        return path

    def _answers(self) -> bool:
        url = f"{self.issuer}/.well-known/openid-configuration"
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                return bool(answer.status == 200)
        except (OSError, urllib.error.URLError):
            return False

    def _describe_failure(self, what: str) -> str:
        return f"oidc-provider on port {self.port} {what}"
