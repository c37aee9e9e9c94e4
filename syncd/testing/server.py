"""What the throw-away test servers (slapd, the Samba DC) share: one child process in a
directory of its own, with its output appended to a log there.

A subclass says whether its server answers yet (`_answers`) and, where SIGTERM then
SIGKILL is not the way, how to stop its process gently (`_halt`) and kill it (`_kill`);
this class does the rest: waiting until it answers
or fails, a failure message with the end of the log, cleanup on `close()` and by a
finalizer should the object be forgotten. Standard library only.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import weakref
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import IO, ClassVar, Self

LOG_TAIL_LINES = 40

Kill = Callable[[subprocess.Popen[bytes]], None]


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on right now (the kernel's choice for port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _terminate(process: subprocess.Popen[bytes], kill: Kill) -> None:
    """Last-resort cleanup so a forgotten server does not outlive the test run."""
    if process.poll() is None:
        kill(process)


class ServerProcess:
    """One server process; `directory` is made (and removed by `close()`) when none is given."""

    log_name: ClassVar[str]  # the log's file name in the directory
    poll_interval: ClassVar[float]  # seconds between checks whether the server answers

    def __init__(
        self,
        directory: str | os.PathLike[str] | None,
        *,
        prefix: str,
        start_timeout: float,
        stop_timeout: float,
    ) -> None:
        self._owns_directory = directory is None
        self.directory = Path(
            tempfile.mkdtemp(prefix=prefix) if directory is None else directory
        ).resolve()
        self.directory.mkdir(parents=True, exist_ok=True)
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self._process: subprocess.Popen[bytes] | None = None
        self._finalizer: weakref.finalize | None = None
        self._log_file: IO[bytes] | None = None

    @property
    def log_path(self) -> Path:
        """The server's output, appended to on each start."""
        return self.directory / self.log_name

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def stop(self, timeout: float | None = None) -> None:
        """Stop the server gently, killing it if it is not gone after the timeout."""
        process, self._process = self._process, None
        if process is not None:
            self._halt(process, self.stop_timeout if timeout is None else timeout)
            if self._finalizer is not None:
                self._finalizer.detach()
                self._finalizer = None
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def close(self) -> None:
        """Stop, and remove the directory if this object made it."""
        self.stop()
        if self._owns_directory:
            shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> Self:
        try:
            return self.start()
        except BaseException:
            self.close()  # __exit__ is not called when __enter__ fails
            raise

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # -- for subclasses --------------------------------------------------------------

    def start(self) -> Self:
        raise NotImplementedError

    def _halt(self, process: subprocess.Popen[bytes], timeout: float) -> None:
        """Stop `process` gently, within `timeout`, or kill it: SIGTERM and wait (slapd
        flushes and closes its database), then `_kill`."""
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                self._kill(process)

    @staticmethod
    def _kill(process: subprocess.Popen[bytes]) -> None:
        """Kill `process` (and whatever it started) and reap it."""
        process.kill()
        process.wait()

    def _answers(self) -> bool:
        """Whether the server serves clients yet."""
        raise NotImplementedError

    def _describe_failure(self, what: str) -> str:
        """The first half of a start failure's message: which server, `what` went wrong."""
        raise NotImplementedError

    def _exit_error(self, status: int, log_offset: int) -> Exception:
        """What to raise when the process exits while starting."""
        return RuntimeError(self._failure(f"exited with status {status}", log_offset))

    # -- helpers ---------------------------------------------------------------------

    def _log_size(self) -> int:
        """Where this start's output begins in the log."""
        return self.log_path.stat().st_size if self.log_path.exists() else 0

    def _spawn_process(self, command: list[str], *, cwd: Path, new_session: bool = False) -> None:
        """Run the server in the foreground, its stdout and stderr appended to the log."""
        if self._log_file is None:
            self._log_file = self.log_path.open("ab")
        self._process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            start_new_session=new_session,
        )
        self._finalizer = weakref.finalize(self, _terminate, self._process, self._kill)

    def _wait_until_ready(self, log_offset: int) -> None:
        """Wait until the server answers; stop it and raise if it exits or takes too long."""
        assert self._process is not None
        deadline = time.monotonic() + self.start_timeout
        while True:
            status = self._process.poll()
            if status is not None:
                self.stop()
                raise self._exit_error(status, log_offset)
            if self._answers():
                return
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(
                    self._failure(f"did not answer within {self.start_timeout:g} s", log_offset)
                )
            time.sleep(self.poll_interval)

    def _log_since(self, offset: int) -> bytes:
        if self._log_file is not None:
            self._log_file.flush()
        try:
            with self.log_path.open("rb") as log:
                log.seek(offset)
                return log.read()
        except FileNotFoundError:
            return b""

    def _failure(self, what: str, log_offset: int) -> str:
        lines = self._log_since(log_offset).decode(errors="replace").strip().splitlines()
        tail = "\n".join(lines[-LOG_TAIL_LINES:]) or "(empty)"
        return f"{self._describe_failure(what)}; the end of its log {self.log_path}:\n{tail}"
