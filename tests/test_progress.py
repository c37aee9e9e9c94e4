"""A long apply's progress: log lines off a terminal, a bar on one, nothing for small or
quick applies, and never a byte on stdout (a real `syncd apply` against a real slapd)."""

from __future__ import annotations

import io
import json
import logging
import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import pytest

from syncd.progress import ApplyProgress
from tests.conftest import REPO
from tests.sync_env import DAY, SyncEnv

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


class FakeClock:
    """The time a test says it is: throttling is tested without sleeping."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def run(progress: ApplyProgress, clock: FakeClock, kinds: list[str], seconds: float) -> None:
    """`kinds` done one by one, evenly over `seconds`, then closed."""
    with progress:
        for done, kind in enumerate(kinds):
            clock.now = done * seconds / len(kinds)
            progress.advance(kind)


def progress_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.name == "syncd.progress" and r.levelno == logging.INFO]


def test_off_a_terminal_a_log_line_every_five_seconds(caplog):
    caplog.set_level(logging.INFO)
    clock, stream = FakeClock(), io.StringIO()
    progress = ApplyProgress("ldap", {"user": 250, "group": 50}, stream, is_tty=False,
                             clock=clock)
    run(progress, clock, ["user"] * 250 + ["group"] * 50, seconds=15)
    assert progress_lines(caplog) == [
        "ldap: 101/300 changes (33 %), 20/s, about 10 s left; user 101/250, group 0/50",
        "ldap: 201/300 changes (67 %), 20/s, about 5 s left; user 201/250, group 0/50",
    ]
    assert stream.getvalue() == ""


def test_follow_ups_count_in_the_total(caplog):
    caplog.set_level(logging.INFO)
    clock = FakeClock()
    with ApplyProgress("ldap", {"user": 300}, is_tty=False, clock=clock) as progress:
        clock.now = 1
        for _ in range(300):
            progress.advance("user")
        progress.add({"user": 100})
        clock.now = 5
        progress.advance("user")
    assert progress_lines(caplog) == [
        "ldap: 301/400 changes (75 %), 60/s, about 2 s left; user 301/400"]


@pytest.mark.parametrize("is_tty", [False, True])
@pytest.mark.parametrize(("changes", "seconds"), [(199, 60.0), (5000, 1.9)],
                         ids=["small plan", "quick apply"])
def test_nothing_for_a_small_or_quick_apply(caplog, is_tty, changes, seconds):
    caplog.set_level(logging.INFO)
    clock, stream = FakeClock(), io.StringIO()
    progress = ApplyProgress("ldap", {"user": changes}, stream, is_tty, clock=clock)
    run(progress, clock, ["user"] * changes, seconds)
    assert progress_lines(caplog) == []
    assert stream.getvalue() == ""


def test_on_a_terminal_a_bar_with_counts_per_kind():
    clock, stream = FakeClock(), io.StringIO()
    progress = ApplyProgress("ldap", {"ou": 10, "user": 240, "group": 50}, stream,
                             is_tty=True, clock=clock)
    run(progress, clock, ["ou"] * 10 + ["user"] * 240 + ["group"] * 50, seconds=6)
    shown = ANSI.sub("", stream.getvalue())
    assert "━" in shown
    assert "ldap" in shown and "101/300 changes (33 %), 50/s, about 4 s left" in shown
    assert "ou 10/10, user 91/240, group 0/50" in shown
    assert "300/300 changes (100 %), 50/s, in 6 s" in shown  # the bar left at the end
    assert "ou 10/10, user 240/240, group 50/50" in shown


def test_log_lines_go_above_the_bar_whole_and_after_it_as_before():
    clock, stream = FakeClock(), io.StringIO()
    handler = logging.StreamHandler(stream)
    root = logging.getLogger()
    root.addHandler(handler)
    long_line = "refused: " + "x" * 300  # wider than the terminal: not folded
    try:
        with ApplyProgress("ldap", {"user": 300}, stream, is_tty=True,
                           clock=clock) as progress:
            clock.now = 3
            progress.advance("user")
            logging.getLogger("syncd.cycle").error(long_line)
        assert handler.stream is stream
        logging.getLogger("syncd.cycle").error("after the apply")
    finally:
        root.removeHandler(handler)
    lines = ANSI.sub("", stream.getvalue()).splitlines()
    assert long_line in lines
    assert lines[-1] == "after the apply"


# --- a real `syncd apply` ----------------------------------------------------------------

LOWERED = {"MIN_CHANGES": 0, "QUIET_FOR": 0, "LOG_EVERY": 0, "REDRAW_EVERY": 0}


@pytest.fixture
def lowered(monkeypatch):
    """Progress for every change of the small test org."""
    for name, value in LOWERED.items():
        monkeypatch.setattr(ApplyProgress, name, value)


@pytest.mark.slapd
@pytest.mark.parametrize("json_flag", [(), ("--json",)], ids=["text", "json"])
def test_apply_logs_progress_on_stderr_and_keeps_stdout_clean(tmp_path, slapd, capsys,
                                                              lowered, json_flag):
    env = SyncEnv(tmp_path, slapd)
    code, out, err = env.apply(capsys, DAY, *json_flag)
    assert code == 0, err
    assert "syncd.progress: ldap: 1/" in err
    assert "changes (" not in out
    if json_flag:
        assert json.loads(out)["result"] == "success"


@pytest.mark.slapd
def test_apply_draws_the_bar_on_a_terminal_and_keeps_stdout_clean(tmp_path, slapd):
    env = SyncEnv(tmp_path, slapd)
    env.write_org()
    out_file = tmp_path / "stdout.json"
    shown = _run_on_a_terminal(
        f"from syncd.progress import ApplyProgress\n"
        f"for name, value in {LOWERED!r}.items(): setattr(ApplyProgress, name, value)\n"
        f"from syncd.cli import main\n"
        f"raise SystemExit(main(['apply', '--json', '--today', {DAY!r}, "
        f"'-c', {str(env.config)!r}]))\n", out_file)
    outcome = json.loads(out_file.read_text(encoding="utf-8"))
    assert outcome["result"] == "success"
    applied = sum(sum(actions.values()) for actions in outcome["applied"].values())
    assert f"{applied}/{applied} changes (100 %)" in shown
    assert re.search(r"user \d+/\d+", shown)


def _run_on_a_terminal(code: str, out_file: Path) -> str:
    """Run `code` with stderr on a pseudo-terminal and stdout in `out_file`; what the
    terminal showed, without its escapes."""
    master, slave = pty.openpty()
    with out_file.open("w") as stdout:
        process = subprocess.Popen([sys.executable, "-c", code], cwd=REPO, stdout=stdout,
                                   stderr=slave, stdin=subprocess.DEVNULL)
    os.close(slave)
    shown = bytearray()
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the process has gone and closed the terminal
            break
        if not chunk:
            break
        shown += chunk
    os.close(master)
    assert process.wait(timeout=60) == 0, shown.decode(errors="replace")
    return ANSI.sub("", shown.decode("utf-8", errors="replace"))
