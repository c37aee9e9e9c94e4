"""A throw-away SCIM 2.0 service provider for the tests: scim2-server, in memory, on
127.0.0.1 on a free port, with a bearer token.

scim2-server serves Users (with the Enterprise extension) and Groups at `/v2`. A
`service_provider_config` (a dict of ServiceProviderConfig JSON) changes what it
announces: no PATCH, a smaller filter.maxResults; `schemas` (a list of Schema JSON, e.g.
`default_schemas()` changed) what its /Schemas serve and it enforces. Its resources
live in its memory only: a stopped server has lost them (a test that stops a provider
mid-cycle stops a proxy in front of it instead).
"""

from __future__ import annotations

import json
import os
import re
import sys
import urllib.error
import urllib.request
from importlib.resources import files
from pathlib import Path
from typing import Any, Self

from syncd.testing.server import ServerProcess, free_port

TOKEN = "scim-test-token-5b1e"
# A request as the server logs it: "GET /v2/Users?count=7 HTTP/1.1" 200 1234
_LOGGED = re.compile(r'"(?P<method>[A-Z]+) (?P<path>\S+) HTTP/[\d.]+" (?P<status>\d{3})')


def default_schemas() -> list[dict[str, Any]]:
    """The schemas scim2-server serves by default (RFC 7643's User, Group, Enterprise
    User), for a test to change one."""
    schemas: list[dict[str, Any]] = _default("schemas")
    return schemas


def default_service_provider_config() -> dict[str, Any]:
    """What scim2-server announces by default (PATCH, filter.maxResults 1000, ...)."""
    config: dict[str, Any] = _default("service-provider-config")
    return config


def _default(name: str) -> Any:
    text = files("scim2_server.resources").joinpath(f"default-{name}.json").read_text("utf-8")
    return json.loads(text)


class ScimServer(ServerProcess):
    log_name = "scim2-server.log"
    poll_interval = 0.1

    def __init__(self, directory: str | os.PathLike[str] | None = None, *,
                 port: int | None = None, token: str = TOKEN,
                 service_provider_config: dict[str, Any] | None = None,
                 schemas: list[dict[str, Any]] | None = None) -> None:
        super().__init__(directory, prefix="syncd-scim-", start_timeout=30, stop_timeout=10)
        self.port = port or free_port()
        self.token = token
        self.service_provider_config = service_provider_config
        self.schemas = schemas

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v2"

    def token_file(self) -> Path:
        path = self.directory / "token"
        path.write_text(self.token + "\n", encoding="utf-8")
        path.chmod(0o600)
        return path

    def start(self) -> Self:
        command = [str(Path(sys.executable).with_name("scim2-server")), "--hostname",
                   "127.0.0.1", "--port", str(self.port), "--bearer-token", self.token]
        for option, content in (("--service-provider-config", self.service_provider_config),
                                ("--schema", self.schemas)):
            if content is not None:
                path = self.directory / f"{option.removeprefix('--')}.json"
                path.write_text(json.dumps(content), encoding="utf-8")
                command += [option, str(path)]
        offset = self._log_size()
        self._spawn_process(command, cwd=self.directory)
        self._wait_until_ready(offset)
        return self

    def get(self, path: str) -> Any:
        """JSON from the provider, as a test reads it to check what syncd did."""
        request = urllib.request.Request(f"{self.url}{path}",
                                         headers={"Authorization": f"Bearer {self.token}"})
        with urllib.request.urlopen(request, timeout=10) as answer:
            return json.loads(answer.read())

    def send(self, method: str, path: str, body: Any = None) -> Any:
        """Change the provider as someone else would (a hand edit, a foreign account)."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"{self.url}{path}", data=data, method=method,
            headers={"Authorization": f"Bearer {self.token}",
                     "Content-Type": "application/scim+json"})
        with urllib.request.urlopen(request, timeout=10) as answer:
            text = answer.read()
        return json.loads(text) if text else None

    def all(self, endpoint: str) -> list[dict[str, Any]]:
        """Every resource at an endpoint (/Users, /Groups), all pages."""
        found: list[dict[str, Any]] = []
        while True:
            page = self.get(f"{endpoint}?startIndex={len(found) + 1}&count=1000")
            found += page.get("Resources") or []
            if not page.get("Resources") or len(found) >= page["totalResults"]:
                return found

    def requests(self) -> list[tuple[str, str, int]]:
        """(method, path with its query, status) of each request the server logged, in
        order: what a test checks the target sent."""
        text = self._log_since(0).decode(errors="replace")
        return [(m["method"], m["path"], int(m["status"])) for m in _LOGGED.finditer(text)]

    def _answers(self) -> bool:
        try:
            self.get("/ServiceProviderConfig")
        except (OSError, urllib.error.URLError, ValueError):
            return False
        return True

    def _describe_failure(self, what: str) -> str:
        return f"scim2-server on port {self.port} {what}"
