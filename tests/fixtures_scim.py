"""pytest fixtures for a real SCIM 2.0 provider (scim2-server; registered in conftest.py),
a proxy in front of it that fails on demand or goes down, and a syncd set-up around them.

A server per test: scim2-server starts in well under a second, and a fresh one holds no
resources of another test.
"""

from __future__ import annotations

import copy
import json
import sys
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Self

import pytest

import syncd.cycle
from syncd.cli import main
from syncd.config import load_config
from syncd.plan.model import Change
from syncd.targets.base import Target
from syncd.targets.registry import open_target
from syncd.testing.config import write_config
from syncd.testing.scim import ScimServer
from syncd.testing.server import ServerProcess, free_port
from tests.conftest import REPO, write_json
from tests.sync_env import DAY, SMALL_ORG

PROXY = Path(__file__).parent / "servers" / "scim_proxy.py"
MAPPING = REPO / "mappings" / "scim.yaml"
MAIL_DOMAIN = "kolding.example"
ORGANIZATION = "Kolding Kommune"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def scim_target_block(url: str, token_file: Path, mapping: Path = MAPPING,
                      **options: Any) -> str:
    """A `type: scim` item of a config's `targets:` list; `options` are more of its keys
    (retries, page_size, ...)."""
    more = "".join(f"    {key}: {json.dumps(value)}\n" for key, value in options.items())
    return f"""\
  - name: scim
    type: scim
    url: {url}
    token_file: {token_file}
    mapping: {mapping}
{more}    vars:
      mail_domain: {MAIL_DOMAIN}
      organization: {ORGANIZATION}
"""


class ScimProxy(ServerProcess):
    """tests/servers/scim_proxy.py as a process in front of `upstream`, on one port for
    life: `stop()` then `start()` is the provider down for a while."""

    log_name = "scim-proxy.log"
    poll_interval = 0.05

    def __init__(self, directory: Path, upstream: ScimServer) -> None:
        super().__init__(directory, prefix="syncd-scim-proxy-", start_timeout=15,
                         stop_timeout=5)
        self.upstream = upstream
        self.port = free_port()
        self.record = self.directory / "requests.jsonl"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v2"

    def start(self) -> Self:
        command = [sys.executable, str(PROXY), "--port", str(self.port), "--upstream",
                   f"http://127.0.0.1:{self.upstream.port}", "--record", str(self.record)]
        offset = self._log_size()
        self._spawn_process(command, cwd=self.directory)
        self._wait_until_ready(offset)
        return self

    def fail(self, count: int, status: int = 429, retry_after: int | None = 1,
             path: str = "") -> None:
        """The next `count` requests (to a path starting with `path`) answer `status`
        (with that Retry-After)."""
        body = json.dumps({"count": count, "status": status, "retry_after": retry_after,
                           "path": path})
        self._control("fail", body.encode())

    def drop(self, key: str, path: str) -> None:
        """From now on answers to paths starting with `path` lose their JSON's `key`."""
        self._control("drop", json.dumps({"key": key, "path": path}).encode())

    def requests(self) -> list[dict[str, Any]]:
        """Every request passed on or failed, in order of arrival (see the proxy's doc)."""
        if not self.record.exists():
            return []
        lines = self.record.read_text(encoding="utf-8").splitlines()
        return sorted((json.loads(line) for line in lines), key=lambda r: float(r["at"]))

    def _control(self, what: str, body: bytes | None = None) -> None:
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}/_proxy/{what}",
                                         data=body, method="POST" if body else "GET")
        with urllib.request.urlopen(request, timeout=5) as answer:
            answer.read()

    def _answers(self) -> bool:
        try:
            self._control("health")
        except (OSError, urllib.error.URLError):
            return False
        return True

    def _describe_failure(self, what: str) -> str:
        return f"the SCIM proxy on port {self.port} {what}"


class ScimEnv:
    """One provider, one store, one org file (tests/sync_env.py's SMALL_ORG); `apply`,
    `plan` and `run` drive the real command line."""

    def __init__(self, root: Path, server: ScimServer) -> None:
        self.root, self.server = root, server
        self.org: dict[str, Any] = copy.deepcopy(SMALL_ORG)
        self.config = self.configure()
        write_json(self.root / "org.json", self.org)

    def configure(self, url: str | None = None, mapping: Path = MAPPING,
                  token: str | None = None, **options: Any) -> Path:
        """(Re)write config.yaml: the target at `url` (default: the server), signing in
        with `token` (default: the server's)."""
        token_file = self.server.token_file()
        if token is not None:
            token_file = self.root / "other.token"
            token_file.write_text(token + "\n", encoding="utf-8")
            token_file.chmod(0o600)
        block = scim_target_block(url or self.server.url, token_file, mapping, **options)
        self.config = write_config(self.root, block)
        return self.config

    def run(self, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
        write_json(self.root / "org.json", self.org)
        code = main([*argv, "-c", str(self.config)])
        out, err = capsys.readouterr()
        return code, out, err

    def apply(self, capsys: pytest.CaptureFixture[str], day: str = DAY
              ) -> tuple[int, dict[str, Any], str]:
        """The exit code, the target's outcome (`apply --json`), and stderr."""
        code, out, err = self.run(capsys, "apply", "--json", "--today", day)
        return code, json.loads(out) if out.strip() else {}, err

    @contextmanager
    def target(self) -> Iterator[Target]:
        """The configured target, opened as a cycle opens it."""
        target = open_target(load_config(self.config).targets[0])
        try:
            yield target
        finally:
            target.close()

    def users(self) -> dict[str, dict[str, Any]]:
        """The provider's Users by userName, as it holds them."""
        return {u["userName"]: u for u in self.server.all("/Users")}

    def groups(self) -> dict[str, dict[str, Any]]:
        return {g["displayName"]: g for g in self.server.all("/Groups")}


@pytest.fixture
def scim_server(tmp_path: Path) -> Iterator[ScimServer]:
    """A fresh, started scim2-server per test; its log (every request) stays in
    tmp_path/scim for post-mortems."""
    with ScimServer(tmp_path / "scim") as server:
        yield server


@pytest.fixture
def scim_env(tmp_path: Path, scim_server: ScimServer) -> ScimEnv:
    """config.yaml in tmp_path with one `type: scim` target on the test's server and
    mappings/scim.yaml; the small org written as each command runs."""
    return ScimEnv(tmp_path, scim_server)


@pytest.fixture
def scim_proxy(tmp_path: Path, scim_server: ScimServer) -> Iterator[ScimProxy]:
    """A started proxy in front of the test's server, stopped after."""
    with ScimProxy(tmp_path / "proxy", scim_server) as proxy:
        yield proxy


def before_each_apply(monkeypatch: pytest.MonkeyPatch,
                      hook: Callable[[Change, int], None], target: str | None = None) -> None:
    """`hook(change, n)` runs as the cycle is about to apply its n-th change (from 0) to
    `target` (every target when None): a provider stopped mid-cycle, say."""
    opened = syncd.cycle.open_target

    def hooked(config: Any) -> Any:
        opened_target = opened(config)
        if target is not None and config.name != target:
            return opened_target
        applied, done = opened_target.apply, list[Change]()

        def apply(change: Change) -> str | None:
            hook(change, len(done))
            done.append(change)
            return applied(change)

        opened_target.apply = apply
        return opened_target

    monkeypatch.setattr(syncd.cycle, "open_target", hooked)
