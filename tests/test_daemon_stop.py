"""A daemon whose cycle is stuck still stops on SIGTERM, and says what it abandoned; a
stuck cycle is told apart from a slow one (pure tests of the progress tracker)."""

from __future__ import annotations

import signal
import socket
import time

import pytest
from sqlalchemy import select

from syncd.daemon.progress import Progress
from syncd.daemon.service import STALL_AFTER, STOP_GRACE
from syncd.mapping.templating import MAX_CYCLE_RENDER_SECONDS
from syncd.store import open_store
from syncd.store.schema import locks
from tests.daemon_env import DaemonProcess, daemon_config
from tests.fixtures_http import run_hr_api
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
    store = open_store(f"sqlite:///{tmp_path / 'store.db'}")
    with store.engine.connect() as conn:  # the stuck thread's lease was let go
        assert conn.execute(select(locks)).all() == []
    store.close()


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


@pytest.mark.slapd
def test_sigterm_during_a_slow_ingest_stops_before_the_plan(tmp_path, slapd):
    """A healthy cycle still reading its source when SIGTERM comes ends between two
    stages, cleanly: no abandoning, no lease left behind."""
    env = SyncEnv(tmp_path, slapd)
    with run_hr_api(tmp_path / "api", env.org) as api:
        kinds = "".join(f"      {kind}: {{path: '{'slow' if kind == 'persons' else 'api'}/"
                        f"{kind}{'?delay=4' if kind == 'persons' else ''}'}}\n"
                        for kind in env.org)
        text = env.config.read_text()
        snapshot = text[text.index("sources:"):text.index("safety:")]
        env.config.write_text(text.replace(snapshot, f"""sources:
  - name: hr
    type: http
    base_url: {api.url}
    bearer: {{token_file: {api.token_file}}}
    timeout: 20
    kinds:
{kinds}"""))
        daemon = DaemonProcess(env.config, daemon_config(env), tmp_path / "daemon.log")
        try:
            daemon.start()
            time.sleep(1.5)  # the cycle waits on the slow page now
            daemon.signal(signal.SIGTERM)
            assert daemon.stop(timeout=STOP_GRACE + 15) == 0
        finally:
            daemon.kill()
    assert "plan left for the next start" in daemon.logged()
    assert "abandoned" not in daemon.logged()
    store = open_store(f"sqlite:///{tmp_path / 'store.db'}")
    with store.engine.connect() as conn:
        assert conn.execute(select(locks)).all() == []
    store.close()


def test_a_cycle_rendering_within_its_budget_is_never_taken_for_stuck():
    assert STALL_AFTER > MAX_CYCLE_RENDER_SECONDS
