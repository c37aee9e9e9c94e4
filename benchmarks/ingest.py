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

DAY = "2026-12-01"
CHANGE_ONE_PERCENT = """
import json, sys
org = json.load(open(sys.argv[1], encoding="utf-8"))
for person in org["persons"][::100]:
    person["surname"] += "-Hansen"
json.dump(org, open(sys.argv[1], "w", encoding="utf-8"), ensure_ascii=False)
"""


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


def first_person(snapshot: Path) -> str:
    """The first person's id, read line by line (the writer puts one record per line)."""
    with snapshot.open(encoding="utf-8") as lines:
        in_persons = False
        for line in lines:
            in_persons = in_persons or line.strip().startswith('"persons"')
            if in_persons and line.strip().startswith("{"):
                return json.loads(line.strip().rstrip(","))["id"]
    raise SystemExit(f"{snapshot}: no persons")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--engagements", type=int, default=150_000)
    parser.add_argument("--units", type=int, default=5_000)
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="syncd-bench-"))
    work.mkdir(parents=True, exist_ok=True)

    # The org is made and changed by child processes: a forked child's ru_maxrss starts at
    # its parent's RSS, so this process must stay small for the figures to be syncd's own.
    snapshot = work / "org.json"
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "make_big_org.py"), str(snapshot),
                    "--persons", str(args.persons), "--engagements", str(args.engagements),
                    "--units", str(args.units), "--seed", "7"], check=True,
                   stdout=subprocess.DEVNULL)
    config = work / "config.yaml"
    config.write_text("store:\n  url: sqlite:///store.db\nsources:\n  - name: hr\n"
                      "    type: snapshot\n    path: org.json\n", encoding="utf-8")
    print(f"org: {args.persons:,} persons, {args.engagements:,} engagements, "
          f"{args.units:,} units; {snapshot.stat().st_size / 2**20:.0f} MiB JSON in {work}")
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}, SQLite store")

    cfg = ["-c", str(config)]
    person = first_person(snapshot)  # before the change step rewrites the file
    run("ingest, empty store", ["ingest", *cfg])
    run("ingest, same snapshot (no change)", ["ingest", *cfg])
    subprocess.run([sys.executable, "-c", CHANGE_ONE_PERCENT, str(snapshot)], check=True)
    run("ingest, 1 % of persons changed", ["ingest", *cfg])
    run("show person (loads the org view)",
        ["show", "person", person, "--today", DAY, *cfg])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
