"""A throw-away PostgreSQL server for tests: initdb in a temp dir, started on 127.0.0.1.

initdb refuses to run as root, so as root the cluster is made and run as the
`postgres` system user (Debian's package creates it); as anyone else, as that user.
fsync is off: this is a test server, its data is thrown away.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType


def _bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        raise RuntimeError("PostgreSQL is not installed: run scripts/install-test-deps")
    return found[-1]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Postgres:
    """`with Postgres() as pg: pg.url` -> a SQLAlchemy URL for a fresh empty database."""

    def __init__(self) -> None:
        # Not under pytest's tmp_path: its parents are 0700 root, out of the server's reach.
        self.directory = Path(tempfile.mkdtemp(prefix="syncd-pg-"))
        self.directory.chmod(0o755)
        self.port = _free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self._as_postgres = os.geteuid() == 0

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://syncd@127.0.0.1:{self.port}/postgres"

    def _command(self, *argv: str) -> list[str]:
        return ["runuser", "-u", "postgres", "--", *argv] if self._as_postgres else list(argv)

    def start(self) -> Postgres:
        data = self.directory / "data"
        if self._as_postgres:
            shutil.chown(self.directory, "postgres")
        subprocess.run(self._command(_bin("initdb"), "-D", str(data), "-U", "syncd",
                                     "-A", "trust", "--no-sync", "-E", "UTF8"),
                       check=True, capture_output=True)
        log = (self.directory / "postgres.log").open("wb")
        self.process = subprocess.Popen(
            self._command(_bin("postgres"), "-D", str(data), "-p", str(self.port),
                          "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off",
                          "-c", f"unix_socket_directories={self.directory}"),
            stdout=log, stderr=log)
        self._wait()
        return self

    def _wait(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ready = subprocess.run([_bin("pg_isready"), "-h", "127.0.0.1", "-p", str(self.port)],
                                   capture_output=True)
            if ready.returncode == 0:
                return
            if self.process is not None and self.process.poll() is not None:
                break
            time.sleep(0.1)
        log = (self.directory / "postgres.log").read_text(errors="replace")[-2000:]
        raise RuntimeError(f"PostgreSQL did not start on port {self.port}:\n{log}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
        shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> Postgres:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.stop()
