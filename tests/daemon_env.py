"""A real `syncd run` process for tests: started on a free port, polled over HTTP."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from syncd.testing.server import free_port
from tests.conftest import REPO
from tests.sync_env import SyncEnv

TOKEN = "s3cret-sync-token"


def daemon_config(env: SyncEnv, interval: str = "2s", extra: str = "") -> int:
    """Turn a SyncEnv's config into a daemon config; returns the HTTP port."""
    port = free_port()
    token = env.root / "http.token"
    token.write_text(TOKEN)
    token.chmod(0o600)
    env.config.write_text(env.config.read_text() + f"""
schedule:
  interval: {interval}
http:
  listen: 127.0.0.1:{port}
  token_file: http.token
{extra}""")
    return port


class DaemonProcess:
    def __init__(self, config: Path, port: int, log: Path, env: dict[str, str] | None = None,
                 host: str = "127.0.0.1"):
        self.config, self.port, self.log, self.host = config, port, log, host
        self.extra_env = env or {}
        self.process: subprocess.Popen | None = None

    def start(self) -> DaemonProcess:
        self.stderr = self.log.open("a")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "syncd", "run", "-c", str(self.config)],
            cwd=REPO, stdout=subprocess.DEVNULL, stderr=self.stderr,
            env={**os.environ, "PYTHONPATH": str(REPO), **self.extra_env},
        )
        self.wait_for(lambda: self.get("/healthz")[0] == 200, "the daemon to answer")
        return self

    def signal(self, number: int) -> None:
        assert self.process is not None
        self.process.send_signal(number)

    def stop(self, timeout: float = 30) -> int:
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=timeout)
        self.stderr.close()
        return code

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        if hasattr(self, "stderr"):
            self.stderr.close()

    def request(self, method: str, path: str, headers: dict[str, str] | None = None
                ) -> tuple[int, str]:
        request = urllib.request.Request(f"http://{self.host}:{self.port}{path}", method=method,
                                         headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return 0, ""

    def get(self, path: str) -> tuple[int, str]:
        return self.request("GET", path)

    def status(self) -> dict[str, Any]:
        code, body = self.get("/status")
        assert code == 200, body
        return json.loads(body)

    def target(self, name: str = "ldap") -> dict[str, Any]:
        return self.status()["targets"][name]

    def metric(self, name: str, **labels: str) -> float:
        """The value of one sample in /metrics (0 when absent)."""
        _, body = self.get("/metrics")
        want = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
        for line in body.splitlines():
            if line.startswith("#"):
                continue
            series, _, value = line.rpartition(" ")
            metric, _, label_text = series.partition("{")
            found = ",".join(sorted(label_text.rstrip("}").split(","))) if label_text else ""
            if metric == name and found == want:
                return float(value)
        return 0.0

    def logged(self) -> str:
        return self.log.read_text()

    def wait_for(self, predicate: Callable[[], bool], what: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise AssertionError(f"the daemon exited {self.process.returncode} waiting "
                                     f"for {what}:\n{self.logged()[-3000:]}")
            if predicate():
                return
            time.sleep(0.1)
        raise AssertionError(f"timed out waiting for {what}:\n{self.logged()[-3000:]}")
