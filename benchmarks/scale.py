#!/usr/bin/env python3
"""syncd at scale against a throw-away slapd, each figure beside what ldap-utils take for the
same work on the same server, and against the targets of issue 12.

    .venv/bin/python benchmarks/scale.py [--persons 20000 [100000 ...]] [--workdir DIR]
    .venv/bin/python benchmarks/scale.py --smoke     # 5,000 persons: what CI runs

Per size, on a generated org (seed 7, dated today) and a fresh slapd and SQLite store,
the real command line as a child process per step: `syncd ingest` into the empty store;
the first `syncd apply` into the empty directory; `syncd apply` with nothing to change;
three cycles of `syncd run` (the first at start, two asked for by POST /sync; the last
one's duration from /status); `syncd show person` of a person with two engagements;
`syncd plan --json`, then `syncd apply`, after 1 % of persons changed (benchmarks/
churn.py). Then, into a second fresh slapd: `ldapadd -f` of the user entries syncd
wrote, a paged `ldapsearch` of them, and `ldapmodify -f` of what the churn cycle changed
(benchmarks/ldifdiff.py). Prints the steps, then each syncd figure over its baseline
with "ok" or "over". A benchmark, not a test: it asserts no time, and exits non-zero
only when a step fails.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import ldifdiff  # noqa: E402
from benchmarks.churn import churned  # noqa: E402
from benchmarks.sync import (  # noqa: E402
    CONTAINERS,
    MAPPING,
    PAGE,
    USERS,
    describe_server,
    ldap_tool,
    print_table,
    search,
)
from benchmarks.timing import (  # noqa: E402
    PYTHON,
    Launched,
    Measured,
    Row,
    launched,
    run,
    syncd_step,
    with_workdir,
    write_generated_org,
)
from syncd.sampleorg import Snapshot, write_snapshot  # noqa: E402
from syncd.testing.config import write_ldap_config  # noqa: E402
from syncd.testing.slapd import Slapd, free_port  # noqa: E402

SMOKE = 5_000
CHURN = 0.01
GROUPS = "(objectClass=groupOfNames)"
SYNCD_ENTRIES = f"(|{USERS}{GROUPS})"
DAEMON_CYCLES = 3  # the first at start, then two with nothing to change
CYCLE_TIMEOUT = 3600.0  # seconds one daemon cycle may take before the benchmark gives up
# The guards would hold back the churn (more than 50 attribute changes): not measured here.
SAFETY = "safety:\n  max_attribute_changes: 10000000\n  max_attribute_change_ratio: 1.0\n"


@dataclass
class Target:
    """One of issue 12's targets: syncd's figure over its baseline (or alone) at most
    `limit`."""

    figure: str
    measured: float
    baseline: float | None
    limit: float
    unit: str = "s"

    @property
    def value(self) -> float:
        return self.measured / self.baseline if self.baseline else self.measured

    def line(self, width: int) -> str:
        base = f"{self.baseline:9.2f}" if self.baseline else f"{'':>9}"
        target = f"<= {self.limit:g}" if self.baseline else f"< {self.limit:g} {self.unit}"
        verdict = "ok" if self.value <= self.limit else "over"
        return (f"{self.figure:<{width}}  {self.measured:9.2f}  {base}  {self.value:7.2f}  "
                f"{target:>12}  {verdict}")


@dataclass
class Size:
    """What one org size measured: the steps, and the figures the targets compare."""

    rows: list[Row]
    targets: list[Target]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, nargs="+", default=[20_000],
                        help="sizes of the generated org, run one after the other")
    parser.add_argument("--smoke", action="store_true",
                        help=f"{SMOKE:,} persons only (CI: prints, asserts no time)")
    parser.add_argument("--workdir", type=Path, default=None,
                        help="kept afterwards (default: a temp dir, removed afterwards)")
    args = with_workdir(parser.parse_args())
    if args.smoke:
        args.persons = [SMOKE]
    return args


def bench_size(persons: int, work: Path) -> Size:
    """Every step for one org size, under `work`."""
    work.mkdir(parents=True, exist_ok=True)
    label = f"{persons // 1000}k" if persons % 1000 == 0 else str(persons)
    today = date.today()  # the daemon's cycles evaluate today, so every step does
    org = write_generated_org(persons, work / "org.json", as_of=today)
    after, changes = churned(org, CHURN, today)
    write_org(after, work / "org-churned.json")
    syncd = _syncd_steps(label, work, org, today.isoformat())
    print(f"{label}: {changes:,} persons changed; plan: {syncd.planned}", flush=True)
    baselines = _ldap_utils_steps(label, work)
    return Size(syncd.rows + baselines.rows, _targets(label, syncd, baselines))


@dataclass
class SyncdFigures:
    rows: list[Row]
    first: Row
    no_change: Row
    cycle: Measured  # the daemon: seconds are its last cycle's, RSS its peak
    churn: Row
    show: Row
    planned: str


@dataclass
class Baselines:
    rows: list[Row]
    add: Row
    dump: Row
    modify: Row


def _syncd_steps(label: str, work: Path, org: Snapshot, today: str) -> SyncdFigures:
    """syncd's steps on the first slapd; the before/after exports for the baselines."""
    server = Slapd(work / "slapd-syncd")
    try:
        server.start()
        server.enable_syncprov()  # contextCSN: the marker that lets a cycle stop early
        config = write_ldap_config(work, server, MAPPING, max_deletes=100_000)
        listen = daemon_config(config)

        def step(name: str, *argv: str) -> Row:
            return shown(syncd_step(f"{label}: {name}", config, server, *argv, today=today))

        ingested = run([*syncd_command(config), "ingest"], server)
        ingest = shown(Row.of(f"{label}: syncd ingest, empty store", ingested,
                              sum(map(len, org.values())), "-"))
        first = step("syncd apply, first", "apply")
        # the first full cycle after the creates records their entryUUIDs; the second
        # has nothing to do at all, and is what a cycle with nothing changed compares with
        step("syncd apply --full, settles", "apply", "--full")
        full = step("syncd apply --full, no change", "apply", "--full")
        no_change = step("syncd apply, no change", "apply")
        cycle, applied = daemon_cycles(config, server, listen)
        daemon = shown(Row.of(f"{label}: syncd run, no-change cycle", cycle,
                              no_change.objects, str(applied)))
        show = step("syncd show person", "show", "person", two_engagements(org, today))
        export(server, work / "before.ldif")
        os.replace(work / "org-churned.json", work / "org.json")
        plan = work / "plan.json"
        run([*syncd_command(config), "plan", "--json", "--today", today], server, stdout=plan)
        churn = step("syncd apply, 1 % churn", "apply")
        export(server, work / "after.ldif")
    finally:
        server.stop()
    rows = [ingest, first, full, no_change, daemon, show, churn]
    return SyncdFigures(rows, first, no_change, cycle, churn, show, planned(plan))


def _ldap_utils_steps(label: str, work: Path) -> Baselines:
    """ldap-utils on a second slapd: add the users syncd wrote, dump them, then make the
    churn's changes (the groups are added, untimed, before that)."""
    before = ldifdiff.read_ldif(work / "before.ldif")
    after = ldifdiff.read_ldif(work / "after.ldif")
    users, groups, churn = work / "users.ldif", work / "groups.ldif", work / "churn.ldif"
    added = ldifdiff.write_ldif(
        ldifdiff.entries_to_add(e for e in before if not ldifdiff.is_group(e)), users
    )
    ldifdiff.write_ldif(ldifdiff.entries_to_add(filter(ldifdiff.is_group, before)), groups)
    changed = ldifdiff.write_ldif(ldifdiff.churn(before, after), churn)
    server = Slapd(work / "slapd-ldapadd")
    try:
        server.load_ldif_offline("\n".join(
            f"dn: ou={ou},{server.base_dn}\nobjectClass: organizationalUnit\nou: {ou}\n"
            for ou in CONTAINERS
        ))  # fmt: skip
        server.start()
        loaded = run(ldap_tool("ldapadd", server, "-f", str(users)), server)
        add = shown(Row.of(f"{label}: ldapadd -f (users)", loaded, added, str(added)))
        dumped = run(search(server, USERS, "*"), server, stdout=work / "dump.ldif")
        dump = shown(Row.of(f"{label}: ldapsearch pr={PAGE} (users)", dumped, added, "-"))
        run(ldap_tool("ldapadd", server, "-f", str(groups)), server)
        modified = run(ldap_tool("ldapmodify", server, "-f", str(churn)), server)
        modify = shown(Row.of(f"{label}: ldapmodify -f (the churn)", modified, changed,
                              str(changed)))
        same_as_syncd(server, after, work / "replayed.ldif")
    finally:
        server.stop()
    return Baselines([add, dump, modify], add, dump, modify)


def shown(row: Row) -> Row:
    """The row, said as soon as it is measured: a 100k run takes long."""
    print(f"  {row.step}: {row.seconds:.2f} s, {row.rss_mib:.0f} MiB", flush=True)
    return row


def same_as_syncd(server: Slapd, after: list[ldifdiff.Entry], replayed: Path) -> None:
    """Fail unless ldapmodify left the entries as syncd did: else the baseline did other
    work than the cycle it is compared with."""
    export(server, replayed)
    unlike = ldifdiff.unlike(ldifdiff.read_ldif(replayed), after)
    if unlike:
        raise SystemExit(f"ldapmodify left {len(unlike)} entries unlike syncd's: "
                         f"{', '.join(unlike[:3])}")


def _targets(label: str, syncd: SyncdFigures, ldap: Baselines) -> list[Target]:
    heaviest = max(syncd.rows, key=lambda row: row.rss_mib)
    return [
        Target(f"{label}: first sync / ldapadd", syncd.first.seconds, ldap.add.seconds, 1.5),
        Target(f"{label}: no-change apply / dump", syncd.no_change.seconds, ldap.dump.seconds,
               3),
        Target(f"{label}: daemon no-change cycle / dump", syncd.cycle.seconds,
               ldap.dump.seconds, 1),
        Target(f"{label}: churn cycle / (ldapmodify + dump)", syncd.churn.seconds,
               ldap.modify.seconds + ldap.dump.seconds, 3),
        Target(f"{label}: show person", syncd.show.seconds, None, 0.3),
        Target(f"{label}: peak RSS MiB ({heaviest.step.split(': ', 1)[1]})", heaviest.rss_mib,
               None, 1024, "MiB"),
    ]


def syncd_command(config: Path) -> list[str]:
    return [str(PYTHON), "-m", "syncd", "-c", str(config)]


def daemon_config(config: Path) -> str:
    """The same config made ready for `syncd run` (HTTP on a free port, POST /sync with a
    token, no scheduled cycle but the first) and for the churn; returns HOST:PORT."""
    listen = f"127.0.0.1:{free_port()}"
    token = config.parent / "http.token"
    token.write_text(secrets.token_hex(16), encoding="utf-8")
    token.chmod(0o600)
    text = config.read_text(encoding="utf-8").replace("safety:\n", SAFETY, 1)
    config.write_text(text + f"schedule:\n  interval: 1d\nhttp:\n  listen: {listen}\n"
                      f"  token_file: {token.name}\n", encoding="utf-8")
    return listen


def daemon_cycles(config: Path, server: Slapd, listen: str) -> tuple[Measured, int]:
    """`syncd run`'s first cycle and two more asked for by POST /sync; the last one's
    duration (from /status) with the daemon's peak RSS and CPU over all of them, and how
    many changes the last one applied."""
    token = (config.parent / "http.token").read_text(encoding="utf-8")
    cycles: list[dict[str, Any]] = []
    with launched([*syncd_command(config), "run"], server) as daemon:
        while len(cycles) < DAEMON_CYCLES:
            if cycles:
                post_sync(listen, token)
            state = next_cycle(daemon, listen, cycles[-1]["last_run"] if cycles else None)
            if state is None:
                break  # the daemon ended: `launched` reports how
            cycles.append(state)
        daemon.terminate()
    assert daemon.measured
    failed = [c for c in cycles if c["result"] != "success"]
    if len(cycles) < DAEMON_CYCLES or failed:
        raise SystemExit(f"syncd run: cycles {cycles}")
    last = cycles[-1]
    print(f"daemon cycles (s): {[c['duration_seconds'] for c in cycles]}", flush=True)
    measured = daemon.measured
    return Measured(last["duration_seconds"], measured.rss_mib, measured.client_cpu,
                    measured.server_cpu, ""), last["counts"]["applied"]


def next_cycle(daemon: Launched, listen: str, after: str | None) -> dict[str, Any] | None:
    """The target's /status once a cycle newer than `after` has ended; None when the daemon
    has ended instead."""
    deadline = time.monotonic() + CYCLE_TIMEOUT
    while daemon.launcher.poll() is None:
        if time.monotonic() > deadline:
            raise SystemExit(f"syncd run: no cycle ended within {CYCLE_TIMEOUT:.0f} s")
        state = status(listen)
        if state and state["last_run"] and state["last_run"] != after:
            return state
        time.sleep(0.2)
    return None


def status(listen: str) -> dict[str, Any] | None:
    """The ldap target's entry in GET /status; None while the daemon does not answer."""
    try:
        with urllib.request.urlopen(f"http://{listen}/status", timeout=10) as answer:
            state: dict[str, Any] = json.load(answer)["targets"]["ldap"]
            return state
    except (urllib.error.URLError, ConnectionError):
        return None


def post_sync(listen: str, token: str) -> None:
    request = urllib.request.Request(f"http://{listen}/sync", method="POST",
                                     headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=10):
        pass


def two_engagements(org: Snapshot, today: str) -> str:
    """A person with two engagements active on `today`: `show` has most to say of them."""
    active = Counter(
        e["person"] for e in org["engagements"]
        if (e["valid_from"] or "") <= today and (e["valid_to"] or "9999") >= today
    )  # fmt: skip
    return next(person for person, count in active.items() if count == 2)


def export(server: Slapd, path: Path) -> None:
    """The users and groups syncd wrote, with their entryUUID (untimed)."""
    run(search(server, SYNCD_ENTRIES, "*", ldifdiff.UUID), server, stdout=path)


def planned(plan: Path) -> str:
    """What a `plan --json` would do, counted by action and kind."""
    data = json.loads(plan.read_text(encoding="utf-8"))
    changes = [c for target in plan_targets(data) for c in target["changes"]]
    counts = Counter(f"{c['action']} {c['kind']}" for c in changes)
    return ", ".join(f"{n:,} {what}" for what, n in sorted(counts.items()))


def plan_targets(data: Any) -> list[Any]:
    return data["targets"] if isinstance(data, dict) and "targets" in data else [data]


def write_org(org: Snapshot, path: Path) -> None:
    with path.open("w", encoding="utf-8") as out:
        write_snapshot(org, out)


def print_targets(targets: list[Target]) -> None:
    width = max(len(t.figure) for t in targets)
    print(f"{'target (issue 12)':<{width}}  {'syncd':>9}  {'baseline':>9}  {'ratio':>7}  "
          f"{'target':>12}  verdict")
    for target in targets:
        print(target.line(width))


def header(args: argparse.Namespace) -> None:
    describe_server()
    print(f"syncd: SQLite store, mapping {MAPPING.relative_to(ROOT)}, org dated and run "
          f"--today {date.today()}; churn {CHURN:.0%} of persons; workdir {args.workdir}")
    print("objects: records ingested, users + groups syncd wants, or entries ldap-utils "
          "handled; changes: what syncd applied, or LDIF records")
    print("peak RSS, client CPU: the measured command only; the daemon row: its last "
          "cycle's seconds, its peak RSS and CPU over all its cycles")


def main() -> int:
    args = parse_args()
    os.environ["LDAPNOINIT"] = "1"  # ldap-utils: ignore ldap.conf and ~/.ldaprc
    header(args)
    # Stopped with SIGTERM, still run the finally blocks that stop the servers.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    sizes: list[Size] = []
    try:
        for persons in args.persons:
            sizes.append(bench_size(persons, args.workdir / str(persons)))
    finally:
        if sizes:  # what was measured, even when a later size failed or was interrupted
            print()
            print_table([row for size in sizes for row in size.rows])
            print()
            print_targets([target for size in sizes for target in size.targets])
        if not args.keep:
            shutil.rmtree(args.workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
