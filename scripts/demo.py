"""The demo behind scripts/demo: a throw-away slapd, the sample org, one sync, the result.

Runs the real `syncd` command with config.example.yaml against a slapd started on
127.0.0.1:3389 in var/demo/, shows the plan, applies it, reads a few entries back from
the directory, shows that a second plan is empty, and stops the server.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import ldap3

from syncd.testing.slapd import Slapd

REPO = Path(__file__).resolve().parent.parent
DEMO = REPO / "var" / "demo"
TODAY = "2026-12-01"  # the sample org is written around this day
SHOWN = ("p-two-jobs", "p-aeoeaa", "p-future-7d")


def syncd(*args: str, keep: int | None = None) -> None:
    """Run one syncd command the way a sysadmin would, echoing it first."""
    print(f"\n$ syncd {' '.join(args)}", flush=True)
    command = [str(REPO / ".venv" / "bin" / "syncd"), *args, "-c", "config.example.yaml"]
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True)
    lines = result.stdout.splitlines()
    if keep is not None and len(lines) > 2 * keep:
        hidden = len(lines) - 2 * keep
        lines = [*lines[:keep], f"    ... {hidden} more lines ...", *lines[-keep:]]
    print("\n".join(lines))
    if result.returncode not in (0, 2):
        print(result.stderr, file=sys.stderr)
        raise SystemExit(f"syncd {args[0]} exited {result.returncode}")


def show_entries(server: Slapd) -> None:
    print("\n$ ldapsearch (a few entries read back from the directory)")
    with ldap3.Connection(ldap3.Server(server.url), server.admin_dn, server.admin_password,
                          auto_bind=True) as conn:
        for person in SHOWN:
            conn.search(server.base_dn, f"(employeeNumber={person})", attributes=["*"])
            for entry in conn.entries:
                print(f"dn: {entry.entry_dn}")
                for name, values in entry.entry_attributes_as_dict.items():
                    print("\n".join(f"{name}: {value}" for value in values))
                print()
        conn.search(f"ou=groups,{server.base_dn}", "(cn=managers)", attributes=["member"])
        managers = conn.entries[0].member.values if conn.entries else []
        print(f"# cn=managers,ou=groups has {len(managers)} members")


def main() -> int:
    shutil.rmtree(DEMO, ignore_errors=True)
    for stale in (REPO / "var").glob("store.db*"):
        stale.unlink()
    server = Slapd(DEMO / "slapd", port=3389)
    server.start()
    os.environ["SYNCD_LDAP_PASSWORD"] = server.admin_password
    try:
        print(f"slapd is running at {server.url}, base {server.base_dn} (until the demo ends)")
        syncd("validate")
        syncd("ingest")
        syncd("plan", "--today", TODAY, keep=25)
        syncd("apply", "--today", TODAY, keep=6)
        show_entries(server)
        syncd("plan", "--today", TODAY)
        syncd("show", "person", "p-two-jobs", "--today", TODAY)
    finally:
        server.stop()
        print("\nslapd stopped; the store is in var/store.db, the demo folder var/demo/")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
