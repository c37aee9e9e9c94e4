#!/usr/bin/env python3
"""Time and peak memory of `syncd apply`/`plan` against a throw-away SCIM 2.0 provider.

    .venv/bin/python benchmarks/scim.py [--persons 2000] [--skip-sample] [--workdir DIR]

For the sample org (samples/sample-org.json) and a generated org of N persons, each on its
own fresh scim2-server (in memory, on 127.0.0.1) and SQLite store, runs the real command
line in a child process per step: (a) a first `syncd apply` into an empty provider and an
empty store (so it includes the ingest), (b) the same apply again with nothing to change,
(c) `syncd plan` with nothing to change. Wall time and the child's peak RSS come from
`os.wait4`; scim2-server's CPU time is read from /proc. A benchmark, not a test: nothing
is asserted.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.timing import (  # noqa: E402
    DAY,
    Row,
    SnapshotWriter,
    bench_orgs,
    machine,
    parse_args,
    syncd_step,
)
from syncd.testing.config import write_config  # noqa: E402
from syncd.testing.scim import ScimServer  # noqa: E402

MAPPING = ROOT / "mappings" / "scim.yaml"


def scim_config(work: Path, server: ScimServer) -> Path:
    """config.yaml in `work` with the target `it` on `server`, its token in a 0600 file."""
    target = f"""\
  - name: it
    type: scim
    url: {server.url}
    token_file: {server.token_file()}
    mapping: {MAPPING}
    vars:
      mail_domain: kolding.example
      organization: Kolding Kommune
"""
    return write_config(work, target, max_deletes=100_000)


def bench_org(label: str, work: Path, snapshot_writer: SnapshotWriter) -> list[Row]:
    """The three syncd steps for one org on a fresh scim2-server under `work`."""
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    snapshot_writer(work / "org.json")
    with ScimServer(work / "scim2-server") as server:
        config = scim_config(work, server)
        return [
            syncd_step(f"{label}: syncd apply, first", config, server, "apply"),
            syncd_step(f"{label}: syncd apply, no change", config, server, "apply"),
            syncd_step(f"{label}: syncd plan, no change", config, server, "plan"),
        ]


def print_table(rows: list[Row]) -> None:
    width = max(len(row.step) for row in rows)
    print(
        f"{'step':<{width}}  {'wall s':>7}  {'peak RSS MiB':>12}  {'client CPU s':>12}  "
        f"{'server CPU s':>12}  {'objects':>8}  {'changes':>8}"
    )
    for row in rows:
        print(
            f"{row.step:<{width}}  {row.seconds:7.2f}  {row.rss_mib:12.0f}  "
            f"{row.client_cpu:12.2f}  {row.server_cpu:12.2f}  {row.objects:8,}  "
            f"{row.changes:>8}"
        )


def header(args: argparse.Namespace) -> None:
    print(
        f"{machine()}, scim2-server {metadata.version('scim2-server')} (threaded WSGI, "
        "in memory) on the same machine over 127.0.0.1"
    )
    print(
        f"syncd: SQLite store, mapping mappings/scim.yaml, --today {DAY}; the first apply "
        "starts from an empty store and provider, so it includes the ingest"
    )
    print(
        "objects: users + groups syncd wants; changes: what syncd applied (+ follow-ups "
        "naming what the cycle created: members, managers)"
    )
    print(
        "peak RSS, client CPU: the measured command only (forked from a `python -S` "
        "launcher, so RSS never reads below its ~7 MiB); server CPU: scim2-server's, from /proc"
    )
    print(f"workdir: {args.workdir}")


def main() -> int:
    args = parse_args(__doc__, persons=2_000)
    header(args)
    return bench_orgs(args, bench_org, print_table)


if __name__ == "__main__":
    raise SystemExit(main())
