"""A throw-away OS2mo for the os2mo source's tests and benchmark: the GraphQL server of
tests/servers/os2mo_server.py (OS2mo's published schema, served by ariadne), with its
OAuth2 token endpoint, on 127.0.0.1 on a free port.

The schema is read from where it is given (the tests: the shared data folder), never
copied; the data is a JSON file of validity intervals per collection (see the server's
docstring). `stats()` says how many tokens were issued and requests refused, and how many
pages each query took.
"""

from __future__ import annotations

import json
import os
import ssl
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Self

from syncd.testing.server import ServerProcess, free_port

SCRIPT = Path(__file__).resolve().parents[2] / "tests" / "servers" / "os2mo_server.py"
CLIENT_ID = "syncd"
CLIENT_SECRET = "os2mo-test-secret-3c9e"


class Os2moServer(ServerProcess):
    log_name = "os2mo-server.log"
    poll_interval = 0.1

    def __init__(self, schema: Path, data: dict[str, list[dict[str, Any]]],
                 directory: str | os.PathLike[str] | None = None, *, version: int = 29,
                 token_lifetime: float = 300.0, short_pages: bool = False,
                 refuse: tuple[str, ...] = (), delay: float = 0.0,
                 withhold: tuple[str, ...] = (), tls: tuple[Path, Path] | None = None) -> None:
        super().__init__(directory, prefix="syncd-os2mo-", start_timeout=60, stop_timeout=10)
        self.port = free_port()
        self.schema, self.data, self.version = schema, data, version
        self.token_lifetime, self.short_pages = token_lifetime, short_pages
        self.refuse, self.delay = refuse, delay
        self.withhold = withhold  # uuids served without their validity intervals
        self.tls = tls  # (certificate, key): served over https

    @property
    def url(self) -> str:
        """OS2mo's base URL: the API is at {url}/graphql/v{version}."""
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    @property
    def token_url(self) -> str:
        return f"{self.url}/token"

    def secret_file(self, name: str = "client.secret", secret: str = CLIENT_SECRET) -> Path:
        """A 0600 file holding `secret` (the right one unless told otherwise)."""
        path = self.directory / name
        path.write_text(secret + "\n", encoding="utf-8")
        path.chmod(0o600)
        return path

    def start(self) -> Self:
        data = self.directory / "data.json"
        data.write_text(json.dumps(self.data, ensure_ascii=False), encoding="utf-8")
        server_secret = self.directory / "server.secret"
        server_secret.write_text(CLIENT_SECRET, encoding="utf-8")
        command = [sys.executable, str(SCRIPT), "--port", str(self.port), "--schema",
                   str(self.schema), "--data", str(data), "--client-id", CLIENT_ID,
                   "--client-secret-file", str(server_secret), "--version", str(self.version),
                   "--token-lifetime", str(self.token_lifetime), "--delay", str(self.delay),
                   "--pages", "short" if self.short_pages else "normal"]
        for field in self.refuse:
            command += ["--refuse", field]
        for uuid in self.withhold:
            command += ["--withhold", uuid]
        if self.tls:
            command += ["--tls-cert", str(self.tls[0]), "--tls-key", str(self.tls[1])]
        offset = self._log_size()
        self._spawn_process(command, cwd=self.directory)
        self._wait_until_ready(offset)
        return self

    def stats(self) -> dict[str, Any]:
        with self._get("/stats") as answer:
            stats: dict[str, Any] = json.loads(answer.read())
        return stats

    def _get(self, path: str) -> Any:
        """GET from the server; its certificate (self-signed) is not what is tested here."""
        unverified = ssl.create_default_context()
        unverified.check_hostname, unverified.verify_mode = False, ssl.CERT_NONE
        return urllib.request.urlopen(f"{self.url}{path}", timeout=10,
                                      context=unverified if self.tls else None)

    def _answers(self) -> bool:
        try:
            with self._get("/healthz") as answer:
                return bool(answer.status == 200)
        except (OSError, urllib.error.URLError):
            return False

    def _describe_failure(self, what: str) -> str:
        return f"the OS2mo test server on port {self.port} {what}"
