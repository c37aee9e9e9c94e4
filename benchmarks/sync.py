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
import re
import shutil
import subprocess
import sys
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
    run,
    syncd_step,
)
from syncd.testing.config import write_ldap_config  # noqa: E402
from syncd.testing.slapd import Slapd, find_program  # noqa: E402

MAPPING = ROOT / "mappings" / "openldap.yaml"
PAGE = 500
CONTAINERS = ("people", "groups", "disabled")  # the mapping's containers
USERS = "(employeeNumber=*)"  # syncd anchors its users on employeeNumber


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
    return search(server, USERS, "*")


def search(server: Slapd, ldap_filter: str, *attributes: str) -> list[str]:
    """A paged, unwrapped ldapsearch of the whole base."""
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
        ldap_filter,
        *attributes,
    )


def count_entries(ldif: Path) -> int:
    with ldif.open("rb") as text:
        return sum(1 for line in text if line.startswith(b"dn:"))


def bench_org(label: str, work: Path, snapshot_writer: SnapshotWriter) -> list[Row]:
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
        added = run(ldap_tool("ldapadd", server, "-f", str(export)), server)
        rows.append(Row.of(f"{label}: ldapadd -f (users)", added, entries, str(entries)))
        readback = work / "readback.ldif"
        read = run(search_users(server), server, stdout=readback)
        rows.append(
            Row.of(f"{label}: ldapsearch pr={PAGE} (users)", read, count_entries(readback), "-")
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
            f"{row.server_cpu:11.2f}"
        )


def header(args: argparse.Namespace) -> None:
    describe_server()
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


def describe_server() -> None:
    """The machine and the slapd every measurement runs against."""
    version = subprocess.run(
        [find_program("slapd"), "-VV"], capture_output=True, text=True, check=False
    ).stderr
    found = re.search(r"slapd ([\w.+~-]+)", version)
    print(
        f"{machine()}, ldap-utils and slapd {found[1] if found else '?'} on the same "
        "machine over 127.0.0.1"
    )
    print(
        "server: fresh slapd per measurement, back-mdb with olcDbNoSync TRUE (no fsync: "
        "~8x faster adds, not crash-safe), eq indexes, memberof + refint overlays"
    )


def main() -> int:
    args = parse_args(__doc__, persons=20_000)
    os.environ["LDAPNOINIT"] = "1"  # ldap-utils: ignore ldap.conf and ~/.ldaprc
    header(args)
    return bench_orgs(args, bench_org, print_table)


if __name__ == "__main__":
    raise SystemExit(main())
