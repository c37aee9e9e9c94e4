#!/usr/bin/env python3
"""Write a big fictional org snapshot for load tests of ingest, plan and apply.

    python benchmarks/make_big_org.py OUTPUT.json [--persons N] [--engagements N]
                                      [--units N] [--seed N] [--as-of YYYY-MM-DD]

Defaults: 100,000 persons, 150,000 engagements, 5,000 units, as of 2026-12-01 (pass the
same day to syncd as `--today`). Prints how long generation and writing took, so that a
slow generator is not mistaken for a slow syncd.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from syncd.sampleorg import DEFAULT_AS_OF, generate_org, write_snapshot  # noqa: E402


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", type=Path, help="JSON file to write")
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--engagements", type=int, default=150_000)
    parser.add_argument("--units", type=int, default=5_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--as-of", type=date.fromisoformat, default=DEFAULT_AS_OF,
                        help="the day the data is dated around (default %(default)s)")
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    snapshot = generate_org(args.units, args.persons, args.engagements, seed=args.seed,
                            as_of=args.as_of)
    generated = time.perf_counter()
    with args.output.open("w", encoding="utf-8", newline="\n") as out:
        write_snapshot(snapshot, out)
    written = time.perf_counter()
    counts = ", ".join(f"{len(records):,} {kind}" for kind, records in snapshot.items())
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"generated {counts}")
    print(f"generation {generated - started:.2f} s, writing {written - generated:.2f} s "
          f"({args.output.stat().st_size / 2**20:.1f} MiB), peak RSS {peak_mib:.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
