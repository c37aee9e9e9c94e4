#!/usr/bin/env python3
"""Time and peak memory of `syncd ingest` from an OS2mo GraphQL API, as a sysadmin runs it.

    .venv/bin/python benchmarks/os2mo_ingest.py [--persons 10000] [--page-size 1000]
                                                [--workdir DIR]

Builds an org of N persons (the Kolding demo units and names, with engagements in both
trees, managers, addresses, leaves, IT users and role bindings: tests/os2mo_data.py) into
the OS2mo test server (OS2mo's published v29 schema served by ariadne, with its OAuth2
token endpoint, on 127.0.0.1), then runs the real command line in a child process per
step: the first ingest into an empty SQLite store, and the same again with nothing
changed. Wall time, the child's peak RSS and CPU, and the server's CPU are printed. Needs
the shared data folder beside the checkout. A benchmark, not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.timing import PYTHON, Row, machine, run, with_workdir  # noqa: E402
from syncd.testing.os2mo import CLIENT_ID, Os2moServer  # noqa: E402
from tests.os2mo_data import SCHEMA, Built, build  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=10_000)
    parser.add_argument("--page-size", type=int, default=1000)
    parser.add_argument("--workdir", type=Path, default=None)
    args = with_workdir(parser.parse_args())
    if not SCHEMA.exists():
        raise SystemExit(f"{SCHEMA}: missing (the shared data folder beside the checkout)")

    started = time.perf_counter()
    built = build(date.today(), persons=args.persons)
    served = sum(len(items) for items in built.data.values())
    print(f"built ({time.perf_counter() - started:.1f} s, not counted): {served:,} validity "
          "intervals; the store gets " + ", ".join(
              f"{len(records):,} {kind}" for kind, records in built.snapshot.items()))
    print(machine())
    try:
        _bench(args, built)
    finally:
        if not args.keep:
            shutil.rmtree(args.workdir, ignore_errors=True)
    return 0


def _bench(args: argparse.Namespace, built: Built) -> None:
    with Os2moServer(SCHEMA, built.data, args.workdir / "os2mo") as server:
        config = _config(args.workdir, server, args.page_size)
        rows = []
        for step in ("ingest, empty store", "ingest, nothing changed"):
            measured = run([str(PYTHON), "-m", "syncd", "ingest", "-c", str(config)], server)
            rows.append(Row.of(step, measured, args.persons, "-"))
        pages = server.stats()["pages"]
    print(f"\n{args.persons:,} persons, page size {args.page_size}, "
          f"{sum(pages.values()) // len(rows):,} pages per ingest")
    print(f"{'step':<26} {'wall s':>7} {'RSS MiB':>8} {'syncd CPU s':>12} {'server CPU s':>13}")
    for row in rows:
        print(f"{row.step:<26} {row.seconds:7.2f} {row.rss_mib:8.0f} {row.client_cpu:12.2f} "
              f"{row.server_cpu:13.2f}")


def _config(folder: Path, server: Os2moServer, page_size: int) -> Path:
    config = folder / "config.yaml"
    config.write_text(f"""\
store:
  url: sqlite:///store.db
safety:
  source_max_shrink: 1.0
sources:
  - name: mo
    type: os2mo
    url: {server.url}
    version: 29
    token_url: {server.token_url}
    client_id: {CLIENT_ID}
    client_secret_file: {server.secret_file()}
    page_size: {page_size}
""", encoding="utf-8")
    return config


if __name__ == "__main__":
    raise SystemExit(main())
