"""`syncd run` as a real process: schedule, HTTP, metrics (promtool), reload, stop,
recovery from a slapd that goes away, and independent targets."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess

import pytest

from tests.conftest import REPO
from tests.daemon_env import TOKEN, DaemonProcess, daemon_config
from tests.sync_env import SyncEnv

pytestmark = pytest.mark.slapd


@pytest.fixture
def env(tmp_path, slapd) -> SyncEnv:
    return SyncEnv(tmp_path, slapd)


@pytest.fixture
def daemon(env, tmp_path):
    port = daemon_config(env)
    process = DaemonProcess(env.config, port, tmp_path / "daemon.log")
    yield process
    process.kill()


def succeeded(daemon: DaemonProcess, at_least: int = 1):
    return lambda: daemon.metric("syncd_cycles_total", target="ldap",
                                 result="success") >= at_least


def test_runs_a_cycle_at_start_and_serves_status(daemon, env):
    daemon.start()
    daemon.wait_for(succeeded(daemon), "the first cycle")
    assert daemon.get("/readyz") == (200, "ready\n")
    status = daemon.target()
    assert status["result"] == "success"
    assert status["counts"]["create"] > 0 and status["next_run"]
    assert set(env.users()) == {"p1", "p2", "p3", "p4", "p5"}
    daemon.wait_for(succeeded(daemon, 2), "a scheduled second cycle (interval 2s)")
    assert daemon.stop() == 0


def test_metrics_pass_promtool_and_name_every_contract_metric(daemon):
    daemon.start()
    daemon.wait_for(succeeded(daemon), "the first cycle")
    code, body = daemon.get("/metrics")
    assert code == 200
    promtool = shutil.which("promtool")
    assert promtool, "promtool is missing: run scripts/install-test-deps"
    check = subprocess.run([promtool, "check", "metrics"], input=body, capture_output=True,
                           text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    for name in ("syncd_cycles_total", "syncd_cycle_duration_seconds_bucket",
                 "syncd_last_success_timestamp_seconds", "syncd_changes_total",
                 "syncd_managed_objects", "syncd_source_records", "syncd_build_info"):
        assert f"\n{name}{{" in body, name
    assert daemon.metric("syncd_changes_total", target="ldap", kind="user",
                         action="create") == 5
    assert daemon.metric("syncd_managed_objects", target="ldap", kind="user") == 5
    assert daemon.metric("syncd_source_records", source="hr", kind="persons") == 5


def test_post_sync_needs_the_bearer_token(daemon):
    daemon.start()
    daemon.wait_for(succeeded(daemon), "the first cycle")
    assert daemon.request("POST", "/sync")[0] == 401
    assert daemon.request("POST", "/sync", {"Authorization": "Bearer wrong"})[0] == 401
    before = daemon.metric("syncd_cycles_total", target="ldap", result="success")
    code, body = daemon.request("POST", "/sync?target=ldap",
                                {"Authorization": f"Bearer {TOKEN}"})
    assert (code, json.loads(body)) == (202, {"queued": ["ldap"]})
    daemon.wait_for(succeeded(daemon, int(before) + 1), "the cycle POST /sync asked for")
    assert daemon.request("POST", "/sync?target=nope",
                          {"Authorization": f"Bearer {TOKEN}"})[0] == 404
    assert TOKEN not in daemon.logged()


def test_sighup_applies_a_valid_config_and_refuses_a_broken_one(daemon, env):
    daemon.start()
    daemon.wait_for(succeeded(daemon), "the first cycle")
    text = env.config.read_text()
    env.config.write_text(text.replace("mail_domain: kolding.example",
                                       "mail_domain: kommune.example"))
    daemon.signal(signal.SIGHUP)
    daemon.wait_for(lambda: env.user("p2")[1]["mail"] == ["aaseo@kommune.example"],
                    "the reloaded mapping vars to reach the directory")
    env.config.write_text(text.replace("safety:", "safty:"))
    daemon.signal(signal.SIGHUP)
    daemon.wait_for(lambda: daemon.metric("syncd_config_last_reload_successful") == 0,
                    "the refused reload to show in the metrics")
    reload_error = daemon.status()["config"]["reload_error"]
    assert "safty: unknown key; did you mean 'safety'?" in reload_error
    assert "reload refused, the running config stays" in daemon.logged()
    cycles = daemon.metric("syncd_cycles_total", target="ldap", result="success")
    daemon.wait_for(succeeded(daemon, int(cycles) + 1), "cycles to go on with the old config")
    assert env.user("p2")[1]["mail"] == ["aaseo@kommune.example"]
    assert daemon.stop() == 0


def test_sigterm_mid_cycle_stops_cleanly_and_the_next_start_finishes(env, tmp_path, capsys):
    env.org = json.loads((REPO / "samples" / "sample-org.json").read_text(encoding="utf-8"))
    env.write_org()
    port = daemon_config(env, interval="1h")
    daemon = DaemonProcess(env.config, port, tmp_path / "daemon.log").start()
    try:
        daemon.wait_for(lambda: daemon.logged().count("syncd.audit") >= 20, "changes to land")
        assert daemon.stop() == 0
        log = daemon.logged()
        assert "change(s) left for the next cycle" in log
        assert "stopped cleanly" in log
        partial = len(env.users())
        assert partial > 0
        daemon = DaemonProcess(env.config, port, tmp_path / "daemon.log").start()
        daemon.wait_for(succeeded(daemon), "the next start's cycle")
        assert daemon.stop() == 0
    finally:
        daemon.kill()
    assert len(env.users()) > partial
    assert env.plan(capsys, day=None)["changes"] == []


def test_recovers_by_itself_when_slapd_comes_back(daemon, env):
    daemon.start()
    daemon.wait_for(succeeded(daemon), "the first cycle")
    env.slapd.stop()
    daemon.wait_for(lambda: daemon.metric("syncd_cycles_total", target="ldap",
                                          result="failure") >= 1, "a failed cycle")
    assert daemon.get("/readyz")[0] == 503
    status = daemon.target()
    assert status["result"] == "failure" and status["stage"] == "plan"
    assert env.slapd.url.removeprefix("ldap://") in status["error"]
    env.slapd.start()
    daemon.wait_for(lambda: daemon.get("/readyz")[0] == 200, "a later cycle to recover")
    assert daemon.stop() == 0


def with_dead_target(env: SyncEnv) -> None:
    """A second target beside the live one, whose server is never there."""
    text = env.config.read_text()
    target = text[text.index("  - name: ldap"):text.index("schedule:")]
    dead = target.replace("name: ldap", "name: dead").replace(
        env.slapd.url, "ldap://127.0.0.1:1")
    env.config.write_text(text.replace(target, target + dead))


def both_cycles(daemon: DaemonProcess) -> None:
    daemon.wait_for(succeeded(daemon), "the live target's cycle")
    daemon.wait_for(lambda: daemon.metric("syncd_cycles_total", target="dead",
                                          result="failure") >= 1, "the dead one to fail")


def test_a_failing_target_does_not_hold_up_the_others(env, tmp_path):
    port = daemon_config(env)
    with_dead_target(env)
    daemon = DaemonProcess(env.config, port, tmp_path / "daemon.log").start()
    try:
        both_cycles(daemon)
        code, body = daemon.get("/readyz")
        assert code == 503 and "dead" in body
        assert daemon.target("ldap")["result"] == "success"
    finally:
        daemon.kill()


def test_json_logs_with_one_summary_line_per_cycle(env, tmp_path):
    port = daemon_config(env, extra="logging:\n  format: json\n  level: info\n")
    daemon = DaemonProcess(env.config, port, tmp_path / "daemon.log").start()
    try:
        daemon.wait_for(succeeded(daemon), "the first cycle")
        daemon.stop()
    finally:
        daemon.kill()
    lines = [json.loads(line) for line in daemon.logged().splitlines() if line.startswith("{")]
    summaries = [line for line in lines if line.get("result") == "success"]
    assert summaries and summaries[0]["target"] == "ldap"
    assert summaries[0]["create"] > 0 and "duration_seconds" in summaries[0]
    assert all("level" in line and "time" in line for line in lines)


def test_speaks_sd_notify_on_a_real_socket(env, tmp_path):
    import socket

    path = tmp_path / "notify.sock"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(str(path))
    listener.settimeout(0.2)
    port = daemon_config(env)
    daemon = DaemonProcess(env.config, port, tmp_path / "daemon.log",
                           env={"NOTIFY_SOCKET": str(path), "WATCHDOG_USEC": "2000000"})
    said: list[str] = []

    def heard(message: str) -> bool:
        try:
            while True:
                said.extend(listener.recv(4096).decode().splitlines())
        except TimeoutError:
            pass
        return any(line.startswith(message) for line in said)

    try:
        daemon.start()
        daemon.wait_for(lambda: heard("READY=1"), "READY=1")
        daemon.wait_for(lambda: heard("STATUS=ldap success"), "STATUS after a cycle")
        daemon.wait_for(lambda: heard("WATCHDOG=1"), "watchdog pings")
        daemon.signal(signal.SIGHUP)
        daemon.wait_for(lambda: heard("RELOADING=1"), "RELOADING=1")
        assert any(line.startswith("MONOTONIC_USEC=") for line in said)
        assert daemon.stop() == 0
        assert heard("STOPPING=1")
    finally:
        daemon.kill()
        listener.close()


def test_a_broken_source_fails_the_cycle_until_it_is_fixed(daemon, env):
    daemon.start()
    daemon.wait_for(succeeded(daemon), "the first cycle")
    good = (env.root / "org.json").read_text(encoding="utf-8")
    (env.root / "org.json").write_text('{"persons": [', encoding="utf-8")
    daemon.wait_for(lambda: daemon.target()["stage"] == "ingest", "a cycle failing at ingest")
    assert daemon.get("/readyz")[0] == 503
    assert "org.json" in daemon.target()["error"]
    (env.root / "org.json").write_text(good, encoding="utf-8")
    daemon.wait_for(lambda: daemon.get("/readyz")[0] == 200, "recovery once the file is fixed")
    assert len(env.users()) == 5  # nothing was disabled meanwhile


def test_cron_and_jitter_schedules():
    from datetime import UTC, datetime

    from syncd.config import Schedule
    from syncd.daemon.service import _trigger

    trigger = _trigger(Schedule(cron="*/15 * * * *", jitter="30s"))
    now = datetime(2026, 12, 1, 10, 7, tzinfo=UTC)
    fire = trigger.get_next_fire_time(None, now)
    assert fire is not None and fire.minute == 15 and fire.hour == 10
    assert trigger.jitter == 30
    sunday = _trigger(Schedule(cron="0 2 * * 0")).get_next_fire_time(None, now)
    assert sunday.strftime("%A %H:%M") == "Sunday 02:00"  # crontab's 0, not APScheduler's
    friday = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)
    weekdays = _trigger(Schedule(cron="30 6 * * 1-5")).get_next_fire_time(None, friday)
    assert weekdays.strftime("%A") == "Monday"  # not Saturday, as APScheduler's 1-5 would
    every_day = _trigger(Schedule(cron="0 3 * * 0-6")).get_next_fire_time(None, friday)
    assert every_day.strftime("%A %H") == "Saturday 03"
    odd = _trigger(Schedule(cron="0 3 * * */2")).get_next_fire_time(None, friday)
    assert odd.strftime("%A") == "Saturday"  # crontab: Sun, Tue, Thu, Sat (not Sun next)
    interval = _trigger(Schedule(interval="5m"))
    assert interval.interval.total_seconds() == 300


def test_a_taken_port_is_a_clear_error_not_a_crash(env, tmp_path):
    import socket
    import subprocess
    import sys

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        daemon_config(env)
        env.config.write_text(env.config.read_text().replace(
            "listen: 127.0.0.1:", f"listen: 127.0.0.1:{port}  # was "))
        result = subprocess.run([sys.executable, "-m", "syncd", "run", "-c", str(env.config)],
                                cwd=REPO, capture_output=True, text=True, timeout=30)
    assert result.returncode == 1
    assert f"http.listen 127.0.0.1:{port}: cannot listen: Address already in use" in (
        result.stderr)
    assert "Traceback" not in result.stderr


def test_listens_on_ipv6_loopback(env, tmp_path):
    port = daemon_config(env)
    env.config.write_text(env.config.read_text().replace(
        f"listen: 127.0.0.1:{port}", f"listen: '[::1]:{port}'"))
    daemon = DaemonProcess(env.config, port, tmp_path / "daemon.log", host="[::1]")
    try:
        daemon.start()  # waits for /healthz over IPv6
        assert daemon.stop() == 0
    finally:
        daemon.kill()


def test_targets_whose_cycles_come_together_share_one_ingest(env, tmp_path):
    port = daemon_config(env, interval="1h")
    with_dead_target(env)
    daemon = DaemonProcess(env.config, port, tmp_path / "daemon.log").start()
    try:
        both_cycles(daemon)
        assert daemon.logged().count("ingest from hr:") == 1  # one read for both targets
    finally:
        daemon.kill()
