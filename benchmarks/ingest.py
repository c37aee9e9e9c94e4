#!/usr/bin/env python3
"""Time and peak memory of `syncd ingest` on a generated org, as a sysadmin would run it.

    .venv/bin/python benchmarks/ingest.py [--persons 100000] [--engagements 150000]
                                          [--units 5000] [--workdir DIR]

Runs the real command in a child process per step (first ingest into an empty SQLite
store, the same snapshot again, one with 1 % of persons changed) and prints wall time and
the child's peak RSS. A benchmark, not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from syncd.testing.orggen import generate_org, write_snapshot  # noqa: E402

DAY = "2026-12-01"


def run(step: str, argv: list[str]) -> None:
    """Run one syncd command as its own process; report wall time and its own peak RSS."""
    with tempfile.TemporaryFile("w+") as out:
        started = time.perf_counter()
        child = subprocess.Popen([sys.executable, "-m", "syncd", *argv], stdout=out,
                                 stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(child.pid, 0)
        elapsed = time.perf_counter() - started
        out.seek(0)
        said = out.read().strip().splitlines()
    if os.waitstatus_to_exitcode(status):
        raise SystemExit(f"{step}: syncd exited {os.waitstatus_to_exitcode(status)}")
    summary = said[0][:70] if said else ""
    print(f"{step:<34} {elapsed:7.2f} s   peak RSS {usage.ru_maxrss / 1024:6.0f} MiB   {summary}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--engagements", type=int, default=150_000)
    parser.add_argument("--units", type=int, default=5_000)
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="syncd-bench-"))
    work.mkdir(parents=True, exist_ok=True)

    org = generate_org(args.units, args.persons, args.engagements, seed=7)
    snapshot = work / "org.json"
    with snapshot.open("w", encoding="utf-8") as out:
        write_snapshot(org, out)
    config = work / "config.yaml"
    config.write_text("store:\n  url: sqlite:///store.db\nsources:\n  - name: hr\n"
                      "    type: snapshot\n    path: org.json\n", encoding="utf-8")
    counts = ", ".join(f"{len(v):,} {k}" for k, v in org.items())
    print(f"org: {counts}; {snapshot.stat().st_size / 2**20:.0f} MiB JSON in {work}")
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}, SQLite store")

    cfg = ["-c", str(config)]
    run("ingest, empty store", ["ingest", *cfg])
    run("ingest, same snapshot (no change)", ["ingest", *cfg])
    for person in org["persons"][:: 100]:
        person["surname"] += "-Hansen"
    snapshot.write_text(json.dumps(org, ensure_ascii=False), encoding="utf-8")
    run("ingest, 1 % of persons changed", ["ingest", *cfg])
    run("show person (loads the org view)", ["show", "person", org["persons"][0]["id"],
                                             "--today", DAY, *cfg])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
