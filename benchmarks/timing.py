"""What the benchmarks of syncd against a real server share (benchmarks/sync.py: slapd,
benchmarks/scim.py: scim2-server): timing one command as its own process next to the
server, the orgs they run on, and their command line.

Wall time and the command's peak RSS and CPU come from `os.wait4` in a small launcher;
the server's CPU time, used meanwhile, from /proc.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from syncd.sampleorg import DEFAULT_AS_OF, Snapshot, generate_org, write_snapshot
from syncd.testing.server import ServerProcess

ROOT = Path(__file__).resolve().parent.parent
PYTHON = ROOT / ".venv" / "bin" / "python"
SAMPLE = ROOT / "samples" / "sample-org.json"
DAY = "2026-12-01"  # the sample and the generated org are dated around this day
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
# `syncd plan`/`apply` print "desired 20,000 users, 1,001 groups  |  found ..." and
# "<target>: ok; applied N change(s) [and M follow-up(s) ...]".
DESIRED = re.compile(r"^desired (.*?)\s+\|\s+found ([\d,]+) managed", re.MULTILINE)
APPLIED = re.compile(r"; applied ([\d,]+) change\(s\)(?: and ([\d,]+) follow-up)?")

SnapshotWriter = Callable[[Path], None]  # writes an org's snapshot to the path


@dataclass
class Measured:
    seconds: float
    rss_mib: float
    client_cpu: float
    server_cpu: float
    said: str  # what the command printed (empty when its stdout went to a file)


@dataclass
class Row:
    step: str
    seconds: float
    rss_mib: float
    objects: int
    changes: str
    client_cpu: float
    server_cpu: float

    @classmethod
    def of(cls, step: str, measured: Measured, objects: int, changes: str) -> Row:
        return cls(step, measured.seconds, measured.rss_mib, objects, changes,
                   measured.client_cpu, measured.server_cpu)


def server_cpu(server: ServerProcess) -> float:
    """CPU seconds (user + system, all threads) the running server has used so far."""
    fields = Path(f"/proc/{server.pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime


# The measured command is forked from this small launcher (`python -S`, ~7 MiB), not from
# the benchmark itself: Linux carries the parent's RSS high-water mark into a fork/vfork
# child's ru_maxrss across exec, so a command spawned straight from a 80 MiB benchmark
# process would report at least 80 MiB. Same pattern as benchmarks/ingest.py otherwise:
# os.wait4 on the child. Writes "wall_s maxrss_kib cpu_s exit_code" to argv[1].
LAUNCHER = """
import os, sys, time
result, argv = sys.argv[1], sys.argv[2:]
started = time.perf_counter()
pid = os.fork()
if pid == 0:
    try:
        os.execvp(argv[0], argv)
    finally:
        os._exit(127)
_, status, usage = os.wait4(pid, 0)
elapsed = time.perf_counter() - started
code = os.waitstatus_to_exitcode(status)
with open(result, "w") as out:
    out.write(f"{elapsed} {usage.ru_maxrss} {usage.ru_utime + usage.ru_stime} {code}")
sys.exit(code)
"""


@dataclass
class Launched:
    """A command started through LAUNCHER; `measured` is set once it has ended."""

    launcher: subprocess.Popen[bytes]
    measured: Measured | None = None

    def terminate(self) -> None:
        """SIGTERM to the command alone: the launcher must live on to report its usage."""
        pid = self.launcher.pid
        for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
            os.kill(int(child), signal.SIGTERM)


@contextmanager
def launched(
    argv: list[str], server: ServerProcess, stdout: Path | None = None
) -> Iterator[Launched]:
    """Start one command as its own process; on leaving the block wait for it, and measure
    it and what `server` spent meanwhile. A failed command ends the benchmark with the end
    of its stderr."""
    with (
        tempfile.TemporaryFile("w+b") as scratch,
        tempfile.TemporaryFile("w+b") as err,
        tempfile.NamedTemporaryFile("r", suffix=".rusage") as result,
    ):
        out = stdout.open("wb") if stdout else scratch
        try:
            cpu_before = server_cpu(server)
            # Its own process group, so that an interrupted benchmark takes the command
            # down with the launcher.
            command = Launched(subprocess.Popen(
                [str(PYTHON), "-S", "-c", LAUNCHER, result.name, *argv],
                stdin=subprocess.DEVNULL, stdout=out, stderr=err, start_new_session=True,
            ))  # fmt: skip
            try:
                yield command
                command.launcher.wait()
            except BaseException:
                os.killpg(command.launcher.pid, signal.SIGKILL)
                command.launcher.wait()
                raise
            spent = server_cpu(server) - cpu_before
        finally:
            if stdout:
                out.close()
        figures = result.read().split()
        code = int(figures[3]) if figures else -1
        if code:
            err.seek(0)
            tail = err.read().decode(errors="replace").strip().splitlines()[-15:]
            raise SystemExit(f"{' '.join(argv[:4])} ... exited {code}:\n" + "\n".join(tail))
        scratch.seek(0)
        said = scratch.read().decode(errors="replace")
    elapsed, rss_kib, client_cpu = (float(f) for f in figures[:3])
    command.measured = Measured(elapsed, rss_kib / 1024, client_cpu, spent, said)


def run(argv: list[str], server: ServerProcess, stdout: Path | None = None) -> Measured:
    """Run one command as its own process and measure it (see `launched`)."""
    with launched(argv, server, stdout) as command:
        pass
    assert command.measured
    return command.measured


def syncd_step(
    step: str, config: Path, server: ServerProcess, *argv: str, today: str = DAY
) -> Row:
    """One `syncd` command on `config` (`--today`), with what it wanted and applied."""
    measured = run(
        [str(PYTHON), "-m", "syncd", *argv, "--today", today, "-c", str(config)], server
    )
    desired = DESIRED.search(measured.said)
    objects = (
        sum(int(n.replace(",", "")) for n in re.findall(r"([\d,]+) \w+s\b", desired[1]))
        if desired
        else 0
    )
    applied = APPLIED.search(measured.said)
    changes = (
        "-"
        if not applied
        else applied[1].replace(",", "") + (f"+{applied[2]}" if applied[2] else "")
    )
    return Row.of(step, measured, objects, changes)


def machine() -> str:
    """Cores, CPU model, kernel and the syncd child's Python: the start of a header."""
    python = subprocess.run(
        [str(PYTHON), "-c", "import sys; print(sys.version.split()[0])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.machine(),
    )
    return (
        f"machine: {os.cpu_count()} cores ({cpu}), {platform.system()} "
        f"{platform.release()}, Python {python} (syncd child)"
    )


def parse_args(doc: str, persons: int) -> argparse.Namespace:
    """The benchmarks' command line: `persons` is the default size of the generated org;
    `workdir` is made (a temp dir unless given), `keep` says whether it stays."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument(
        "--persons",
        type=int,
        default=persons,
        help="persons in the generated org (units N/20, engagements 1.3 N)",
    )
    parser.add_argument(
        "--skip-sample",
        action="store_true",
        help="only the generated org, not samples/sample-org.json",
    )
    parser.add_argument(
        "--workdir",
        type=Path,
        default=None,
        help="kept afterwards (default: a temp dir, removed afterwards)",
    )
    return with_workdir(parser.parse_args())


def with_workdir(args: argparse.Namespace) -> argparse.Namespace:
    """`args.workdir` made (a temp dir unless given); `args.keep` says whether it stays."""
    args.keep = args.workdir is not None
    args.workdir = (args.workdir or Path(tempfile.mkdtemp(prefix="syncd-bench-"))).resolve()
    args.workdir.mkdir(parents=True, exist_ok=True)
    return args


def copy_sample(path: Path) -> None:
    shutil.copyfile(SAMPLE, path)


def generated_org(persons: int) -> SnapshotWriter:
    """A writer of the generated org of `persons` (see `write_generated_org`)."""

    def write(path: Path) -> None:
        write_generated_org(persons, path)

    return write


def write_generated_org(persons: int, path: Path, as_of: date = DEFAULT_AS_OF) -> Snapshot:
    """The generated org of `persons` (seed 7, units N/20, engagements 1.3 N) written to
    `path`, saying how big it is; returned for benchmarks that change it."""
    started = time.perf_counter()
    org = generate_org(
        units=max(1, persons // 20),
        persons=persons,
        engagements=round(persons * 1.3),
        seed=7,
        as_of=as_of,
    )
    with path.open("w", encoding="utf-8") as out:
        write_snapshot(org, out)
    counts = ", ".join(f"{len(v):,} {k}" for k, v in org.items())
    print(
        f"generated org ({time.perf_counter() - started:.1f} s, not counted): {counts}",
        flush=True,
    )
    return org


def bench_orgs(
    args: argparse.Namespace,
    bench_org: Callable[[str, Path, SnapshotWriter], list[Row]],
    print_table: Callable[[list[Row]], None],
) -> int:
    """`bench_org` on the sample (unless skipped) and on the generated org, each in its own
    folder of the workdir; the table of what was measured, even when interrupted."""
    # Stopped with SIGTERM, still run the finally blocks that stop the servers.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    rows: list[Row] = []
    try:
        if not args.skip_sample:
            rows += bench_org("sample", args.workdir / "sample", copy_sample)
        rows += bench_org(
            f"{args.persons // 1000}k" if args.persons % 1000 == 0 else str(args.persons),
            args.workdir / "generated",
            generated_org(args.persons),
        )
    finally:
        if rows:
            print()
            print_table(rows)
        if not args.keep:
            shutil.rmtree(args.workdir, ignore_errors=True)
    return 0
