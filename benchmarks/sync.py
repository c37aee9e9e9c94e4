#!/usr/bin/env python3
"""Time and peak memory of `syncd apply`/`plan` against a throw-away slapd, next to ldap-utils.

    .venv/bin/python benchmarks/sync.py [--persons 20000] [--skip-sample] [--workdir DIR]

For the sample org (samples/sample-org.json) and a generated org of N persons, each on its
own fresh slapd and SQLite store, runs the real command line in a child process per step:
(a) a first `syncd apply` into an empty directory and an empty store (so it includes the
ingest), (b) the same apply again with nothing to change, (c) `syncd plan` with nothing to
change. For comparison, on the same machine in the same run, the user entries syncd wrote
are exported with ldapsearch into an LDIF, loaded with `ldapadd` into a second fresh slapd,
and read back from it with a paged `ldapsearch`. Wall time and the child's peak RSS come
from `os.wait4`; slapd's CPU time is read from /proc. A benchmark, not a test: nothing is
asserted.
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
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from syncd.sampleorg import generate_org, write_snapshot  # noqa: E402
from syncd.testing.config import write_ldap_config  # noqa: E402
from syncd.testing.slapd import Slapd, find_program  # noqa: E402

PYTHON = ROOT / ".venv" / "bin" / "python"
SAMPLE = ROOT / "samples" / "sample-org.json"
MAPPING = ROOT / "mappings" / "openldap.yaml"
DAY = "2026-12-01"  # the sample and the generated org are dated around this day
PAGE = 500
CONTAINERS = ("people", "groups", "disabled")  # the mapping's containers
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
# `syncd plan`/`apply` print "desired 20,000 users, 1,001 groups  |  found ..." and
# "applied N change(s)".
DESIRED = re.compile(r"^desired (.*?)\s+\|\s+found ([\d,]+) managed", re.MULTILINE)
APPLIED = re.compile(r"^applied ([\d,]+) change", re.MULTILINE)


@dataclass
class Row:
    step: str
    seconds: float
    rss_mib: float
    objects: int
    changes: str
    client_cpu: float
    slapd_cpu: float


def slapd_cpu(server: Slapd) -> float:
    """CPU seconds (user + system, all threads) the running slapd has used so far."""
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


def run(
    argv: list[str], server: Slapd, stdout: Path | None = None
) -> tuple[float, float, float, float, str]:
    """Run one command as its own process: wall s, peak RSS MiB, its CPU s, slapd's CPU s,
    and what it printed (unless stdout goes to a file)."""
    env = {**os.environ, "LDAPNOINIT": "1"}  # ldap-utils: ignore ldap.conf and ~/.ldaprc
    with (
        tempfile.TemporaryFile("w+b") as scratch,
        tempfile.TemporaryFile("w+b") as err,
        tempfile.NamedTemporaryFile("r", suffix=".rusage") as result,
    ):
        out = stdout.open("wb") if stdout else scratch
        try:
            cpu_before = slapd_cpu(server)
            # Its own process group, so that an interrupted benchmark takes the command
            # down with the launcher.
            launcher = subprocess.Popen(
                [str(PYTHON), "-S", "-c", LAUNCHER, result.name, *argv],
                stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=env,
                start_new_session=True,
            )  # fmt: skip
            try:
                launcher.wait()
            except BaseException:
                os.killpg(launcher.pid, signal.SIGKILL)
                launcher.wait()
                raise
            server_cpu = slapd_cpu(server) - cpu_before
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
    return elapsed, rss_kib / 1024, client_cpu, server_cpu, said


def syncd_step(step: str, config: Path, server: Slapd, *argv: str) -> Row:
    elapsed, rss, cpu, server_cpu, said = run(
        [str(PYTHON), "-m", "syncd", *argv, "--today", DAY, "-c", str(config)], server
    )
    desired = DESIRED.search(said)
    objects = (
        sum(int(n.replace(",", "")) for n in re.findall(r"([\d,]+) \w+s\b", desired[1]))
        if desired
        else 0
    )
    applied = APPLIED.search(said)
    changes = applied[1].replace(",", "") if applied else "-"
    return Row(step, elapsed, rss, objects, changes, cpu, server_cpu)


def ldap_tool(name: str, server: Slapd, *argv: str) -> list[str]:
    return [
        find_program(name),
        "-x",
        "-H",
        server.url,
        "-D",
        server.admin_dn,
        "-w",
        server.admin_password,
        *argv,
    ]


def search_users(server: Slapd) -> list[str]:
    """Every user entry syncd manages (it anchors them on employeeNumber), paged, unwrapped."""
    return ldap_tool(
        "ldapsearch",
        server,
        "-LLL",
        "-o",
        "ldif-wrap=no",
        "-E",
        f"pr={PAGE}/noprompt",
        "-b",
        server.base_dn,
        "(employeeNumber=*)",
        "*",
    )


def count_entries(ldif: Path) -> int:
    with ldif.open("rb") as text:
        return sum(1 for line in text if line.startswith(b"dn:"))


def bench_org(label: str, work: Path, snapshot_writer) -> list[Row]:
    """Both measurements for one org, each on its own fresh slapd under `work`."""
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    snapshot_writer(work / "org.json")
    rows: list[Row] = []

    server = Slapd(work / "slapd-syncd")
    try:
        server.start()
        config = write_ldap_config(work, server, MAPPING, max_deletes=100_000)
        rows.append(syncd_step(f"{label}: syncd apply, first", config, server, "apply"))
        rows.append(syncd_step(f"{label}: syncd apply, no change", config, server, "apply"))
        rows.append(syncd_step(f"{label}: syncd plan, no change", config, server, "plan"))
        # The users syncd wrote, as LDIF for ldapadd (operational attributes such as
        # memberOf and entryUUID are not returned by "*"); not timed.
        export = work / "users.ldif"
        run(search_users(server), server, stdout=export)
    finally:
        server.stop()

    entries = count_entries(export)
    server = Slapd(work / "slapd-ldapadd")
    try:
        base = server.base_dn
        server.load_ldif_offline(
            "\n".join(
                f"dn: ou={ou},{base}\nobjectClass: organizationalUnit\nou: {ou}\n"
                for ou in CONTAINERS
            )
        )
        server.start()
        elapsed, rss, cpu, server_cpu, _ = run(
            ldap_tool("ldapadd", server, "-f", str(export)), server
        )
        rows.append(
            Row(
                f"{label}: ldapadd -f (users)", elapsed, rss, entries, str(entries), cpu, server_cpu
            )
        )
        readback = work / "readback.ldif"
        elapsed, rss, cpu, server_cpu, _ = run(search_users(server), server, stdout=readback)
        rows.append(
            Row(
                f"{label}: ldapsearch pr={PAGE} (users)",
                elapsed,
                rss,
                count_entries(readback),
                "-",
                cpu,
                server_cpu,
            )
        )
    finally:
        server.stop()
    return rows


def print_table(rows: list[Row]) -> None:
    width = max(len(row.step) for row in rows)
    print(
        f"{'step':<{width}}  {'seconds':>8}  {'peak RSS MiB':>12}  {'objects':>8}  "
        f"{'objects/s':>9}  {'changes':>7}  {'client CPU s':>12}  {'slapd CPU s':>11}"
    )
    for row in rows:
        rate = row.objects / row.seconds if row.seconds else 0.0
        print(
            f"{row.step:<{width}}  {row.seconds:8.2f}  {row.rss_mib:12.0f}  "
            f"{row.objects:8,}  {rate:9,.0f}  {row.changes:>7}  {row.client_cpu:12.2f}  "
            f"{row.slapd_cpu:11.2f}"
        )


def header(args: argparse.Namespace) -> None:
    version = subprocess.run(
        [find_program("slapd"), "-VV"], capture_output=True, text=True, check=False
    ).stderr
    found = re.search(r"slapd ([\w.+~-]+)", version)
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
    print(
        f"machine: {os.cpu_count()} cores ({cpu}), {platform.system()} "
        f"{platform.release()}, Python {python} (syncd child), ldap-utils and slapd "
        f"{found[1] if found else '?'} on the same machine over 127.0.0.1"
    )
    print(
        "server: fresh slapd per measurement, back-mdb with olcDbNoSync TRUE (no fsync: "
        "~8x faster adds, not crash-safe), eq indexes, memberof + refint overlays"
    )
    print(
        f"syncd: SQLite store, mapping mappings/openldap.yaml, --today {DAY}; the first "
        "apply starts from an empty store, so it includes the ingest"
    )
    print(
        "objects: users + groups syncd wants (syncd rows) or entries moved (ldap-utils "
        "rows); changes: what syncd applied"
    )
    print(
        "peak RSS, client CPU: the measured command only (forked from a `python -S` "
        "launcher, so RSS never reads below its ~7 MiB); slapd CPU: from /proc"
    )
    print(f"workdir: {args.workdir}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--persons",
        type=int,
        default=20_000,
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
    args = parser.parse_args()
    keep = args.workdir is not None
    args.workdir = (args.workdir or Path(tempfile.mkdtemp(prefix="syncd-bench-"))).resolve()
    args.workdir.mkdir(parents=True, exist_ok=True)

    def sample(path: Path) -> None:
        shutil.copyfile(SAMPLE, path)

    def generated(path: Path) -> None:
        started = time.perf_counter()
        org = generate_org(
            units=max(1, args.persons // 20),
            persons=args.persons,
            engagements=round(args.persons * 1.3),
            seed=7,
        )
        with path.open("w", encoding="utf-8") as out:
            write_snapshot(org, out)
        counts = ", ".join(f"{len(v):,} {k}" for k, v in org.items())
        print(
            f"generated org ({time.perf_counter() - started:.1f} s, not counted): {counts}",
            flush=True,
        )

    # Stopped with SIGTERM, still run the finally blocks that stop the slapds.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    header(args)
    rows: list[Row] = []
    try:
        if not args.skip_sample:
            rows += bench_org("sample", args.workdir / "sample", sample)
        rows += bench_org(
            f"{args.persons // 1000}k" if args.persons % 1000 == 0 else str(args.persons),
            args.workdir / "generated",
            generated,
        )
    finally:
        if rows:
            print()
            print_table(rows)
        if not keep:
            shutil.rmtree(args.workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
