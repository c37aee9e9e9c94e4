"""A daemon whose cycle is stuck still stops on SIGTERM, and says what it abandoned; a
stuck cycle is told apart from a slow one (pure tests of the progress tracker)."""

from __future__ import annotations

import signal
import socket
import time

import pytest

from syncd.daemon.progress import Progress
from syncd.daemon.service import STOP_GRACE
from tests.daemon_env import DaemonProcess, daemon_config
from tests.sync_env import SyncEnv


@pytest.mark.slapd
def test_sigterm_ends_a_daemon_whose_cycle_hangs(tmp_path, slapd):
    env = SyncEnv(tmp_path, slapd)
    with socket.socket() as silent:  # takes connections (the kernel does), never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        hung = f"ldap://127.0.0.1:{silent.getsockname()[1]}"
        env.config.write_text(env.config.read_text().replace(
            f"    url: {slapd.url}\n", f"    url: {hung}\n    timeout: 300\n"))
        daemon = DaemonProcess(env.config, daemon_config(env), tmp_path / "daemon.log")
        try:
            daemon.start()
            daemon.wait_for(lambda: "ingest from hr" in daemon.logged(), "the cycle to start")
            time.sleep(1)  # now waiting on the silent server
            started = time.monotonic()
            daemon.signal(signal.SIGTERM)
            code = daemon.stop(timeout=STOP_GRACE + 15)
            assert time.monotonic() - started < STOP_GRACE + 10
        finally:
            daemon.kill()
    assert code == 1  # not a clean stop, and it says so
    assert "cycle ldap has made no progress in plan" in daemon.logged()
    assert "abandoned after" in daemon.logged()


def test_a_cycle_is_stalled_only_after_no_progress_for_the_limit():
    progress = Progress(stall_after=0.2)
    progress.start("ldap")
    assert progress.stalls() == []
    time.sleep(0.3)
    [stall] = progress.stalls()
    assert (stall.target, stall.stage) == ("ldap", "ingest")
    progress.stage("ldap", "apply")
    assert progress.stalls() == []  # a new stage is progress
    time.sleep(0.3)
    progress.beat("ldap")  # so is each change applied
    assert progress.stalls() == []
    assert not progress.wait_idle(0.05)
    progress.finish("ldap")
    assert progress.wait_idle(0.05) and progress.stalls(after=0) == []
