"""Run tests/servers/hr_api.py as a real process on 127.0.0.1 for the HTTP source tests."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from syncd.testing.server import free_port

SERVER = Path(__file__).parent / "servers" / "hr_api.py"
TOKEN = "hr-api-token-7f3a9c"
BASIC_USER = "syncd"
BASIC_PASSWORD = "basic-pw-41d2"


@dataclass(frozen=True)
class HrApi:
    url: str  # http(s)://127.0.0.1:PORT
    token_file: Path
    password_file: Path
    log: Path  # the server's stderr: one line per request


def secret_file(path: Path, value: str) -> Path:
    path.write_text(value + "\n", encoding="utf-8")
    path.chmod(0o600)
    return path


def self_signed_cert(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 that no system trust store knows."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )
    return cert, key


@contextmanager
def run_hr_api(
    folder: Path, data: dict[str, Any], tls: tuple[Path, Path] | None = None
) -> Iterator[HrApi]:
    """Start the server with `data`, wait until it answers, and stop it afterwards."""
    folder.mkdir(parents=True, exist_ok=True)
    data_file = folder / "org.json"
    data_file.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    port = free_port()
    api = HrApi(
        url=f"{'https' if tls else 'http'}://127.0.0.1:{port}",
        token_file=secret_file(folder / "token", TOKEN),
        password_file=secret_file(folder / "password", BASIC_PASSWORD),
        log=folder / "hr_api.log",
    )
    command = [sys.executable, str(SERVER), "--port", str(port), "--data", str(data_file),
               "--token-file", str(api.token_file), "--basic-user", BASIC_USER,
               "--basic-password-file", str(api.password_file)]
    if tls:
        command += ["--tls-cert", str(tls[0]), "--tls-key", str(tls[1])]
    with api.log.open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=log)
    try:
        _wait_until_up(process, api)
        yield api
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_up(process: subprocess.Popen[bytes], api: HrApi, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"hr_api exited with {process.returncode}:\n"
                               f"{api.log.read_text(errors='replace')}")
        try:
            if httpx.get(f"{api.url}/healthz", verify=False, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"hr_api did not answer within {timeout}s:\n"
                       f"{api.log.read_text(errors='replace')}")
