"""How fast the web view's pages answer at 100,000 persons.

    .venv/bin/python benchmarks/web.py [--persons 100000] [--requests 30] [--workdir DIR]

A generated org (benchmarks/timing.py's, seed 7, units N/20; every fifth engagement
moved to the root unit, so that one unit has a fifth of everyone) is ingested into a SQLite
store with a registry row for every person's user and every unit's group (what a first
apply leaves), then the real daemon's HTTP app (its endpoints and the web view behind
sign-in, HTTP basic against a bcrypt htpasswd file) is served by uvicorn as `syncd run`
serves it, with no cycle scheduled (the pages are measured, not a sync). Each page kind
is asked `--requests` times over one keep-alive connection, then over a new connection
each, after one warm-up request; the table gives the median and the 95th percentile.
The store is kept in the workdir and reused by the next run of the same size.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections import Counter
from datetime import date
from pathlib import Path

import bcrypt
import httpx
from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.timing import DAY, write_generated_org
from syncd.cli import main
from syncd.cycle import load_checked
from syncd.daemon.service import Daemon, TargetState
from syncd.objects import Owned
from syncd.sampleorg import ROOT_ID, Snapshot, mail_local, write_snapshot
from syncd.store.schema import org_tables
from syncd.testing.config import write_config as testing_config
from syncd.testing.server import free_port

ROOT = Path(__file__).resolve().parent.parent
USER, PASSWORD = "alice", "benchmark-only"
BIG_UNIT_SHARE = 5  # every 5th engagement is in the root unit: one unit of 26,000 at 100k
TARGET_PAGE_HOLDS = 2_000  # held changes on /targets (the state keeps the first 200)


def main_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=30, help="per page kind")
    parser.add_argument("--workdir", type=Path,
                        default=Path(tempfile.gettempdir()) / "syncd-web-bench")
    return parser.parse_args()


def write_config(work: Path, port: int) -> Path:
    hashed = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(5)).decode()
    (work / "web.htpasswd").write_text(f"{USER}:{hashed}\n", encoding="utf-8")
    (work / "web.htpasswd").chmod(0o640)
    config = testing_config(work, f"""\
  - name: memory
    type: memory
    path: memory.json
    mapping: {ROOT / 'mappings' / 'memory.yaml'}""")
    with config.open("a", encoding="utf-8") as out:
        out.write(f"""\
http:
  listen: 127.0.0.1:{port}
web:
  htpasswd: {work / 'web.htpasswd'}
  admins: [{USER}]
""")
    return config


def build_store(work: Path, persons: int, config: Path) -> Snapshot | None:
    """Ingest the org and register every user and unit group, unless done before."""
    if (work / "store.db").exists():
        return None
    org = write_generated_org(persons, work / "org.json", as_of=date.fromisoformat(DAY))
    for engagement in org["engagements"][::BIG_UNIT_SHARE]:
        engagement["unit"] = ROOT_ID
    with (work / "org.json").open("w", encoding="utf-8") as out:
        write_snapshot(org, out)
    started = time.perf_counter()
    if main(["ingest", "-c", str(config)]) != 0:
        raise SystemExit("ingest failed")
    print(f"ingested in {time.perf_counter() - started:.1f} s (not counted)", flush=True)
    return org


def register(daemon: Daemon, org: Snapshot) -> None:
    """The registry a first apply leaves: a user per person, a group per unit."""
    taken: Counter[str] = Counter()
    rows = []
    for person in org["persons"]:
        name = mail_local(person["given_name"], person["surname"])[:12]
        taken[name] += 1
        username = name if taken[name] == 1 else f"{name[:10]}{taken[name]}"
        rows.append(Owned("memory", "user", person["id"], person["id"], username,
                          person["id"], "active"))
    rows += [Owned("memory", "group", f"units:{unit['id']}", f"g-{unit['id']}",
                   unit["name"][:60], f"g-{unit['id']}", "active") for unit in org["units"]]
    for start in range(0, len(rows), 5_000):
        daemon.store.save_accounts(rows[start:start + 5_000])


def guarded_state(org_persons: list[str]) -> TargetState:
    """A target whose last cycle a deletes guard held back (as after a mass removal)."""
    held = [{"action": "disable", "kind": "user", "key": pid, "locator": pid,
             "username": None, "why": "no engagement any more", "attributes": []}
            for pid in org_persons[:200]]
    return TargetState(result="guarded", counts={"disable": TARGET_PAGE_HOLDS},
                       holds=[{"name": "deletes", "value": TARGET_PAGE_HOLDS, "limit": 50,
                               "tripped": True, "detail": ""}],
                       held=held, held_total=TARGET_PAGE_HOLDS)


def pages(daemon: Daemon) -> dict[str, str]:
    """One address per page kind: the unit with the most members, a person with
    engagements in several units, two searches (ASCII and Danish letters); /healthz
    first, the floor that HTTP itself takes."""
    with daemon.store.engine.connect() as conn:
        engagements = org_tables["engagements"].c
        big_unit = conn.execute(select(engagements.unit).group_by(engagements.unit)
                                .order_by(func.count().desc()).limit(1)).scalar()
        person = conn.execute(select(engagements.person).group_by(engagements.person)
                              .order_by(func.count().desc()).limit(1)).scalar()
    return {
        "/healthz (no page)": "/healthz",
        "tree": f"/?today={DAY}",
        "unit (most members)": f"/units/{big_unit}?today={DAY}",
        "unit, members page 2": f"/units/{big_unit}?today={DAY}&page=2",
        "person": f"/persons/{person}?today={DAY}",
        "search 'jensen'": f"/search?q=jensen&today={DAY}",
        "search 'søren'": f"/search?q=s%C3%B8ren&today={DAY}",
        "targets": f"/targets?today={DAY}",
    }


def measure(client: httpx.Client, path: str, requests: int) -> tuple[float, float, int]:
    """Median and 95th percentile in ms, and the page's size in bytes."""
    first = client.get(path)
    if first.status_code != 200:
        raise SystemExit(f"GET {path}: {first.status_code} {first.text[:200]}")
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        client.get(path).raise_for_status()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    return statistics.median(times), p95, len(first.content)


Figures = tuple[float, float, int]  # median ms, p95 ms, bytes


def run(args: argparse.Namespace) -> list[tuple[str, Figures, Figures]]:
    """Each page over one keep-alive connection (as a browser asks), then over a new
    connection per request (which TCP's delayed ACK cannot hold up: the difference is
    the server's socket, not the page)."""
    work = args.workdir / str(args.persons)
    work.mkdir(parents=True, exist_ok=True)
    port = free_port()
    config = write_config(work, port)
    org = build_store(work, args.persons, config)
    daemon = Daemon(config, load_checked(config))
    if org is not None:
        register(daemon, org)
    with daemon.store.engine.connect() as conn:
        persons = list(conn.execute(select(org_tables["persons"].c.id).limit(200)).scalars())
    daemon.states["memory"] = guarded_state(persons)
    daemon.http.start()
    base, auth = f"http://127.0.0.1:{port}", (USER, PASSWORD)
    try:
        with httpx.Client(base_url=base, auth=auth, timeout=60) as kept, \
                httpx.Client(base_url=base, auth=auth, timeout=60,
                             limits=httpx.Limits(max_keepalive_connections=0)) as fresh:
            return [(name, measure(kept, path, args.requests),
                     measure(fresh, path, args.requests))
                    for name, path in pages(daemon).items()]
    finally:
        daemon.http.stop()
        daemon.store.close()


def report(rows: list[tuple[str, Figures, Figures]], args: argparse.Namespace) -> None:
    print(f"\nweb view, {args.persons:,} persons, {args.requests} requests per page "
          f"(after one warm-up); ms")
    print(f"{'':<22} {'keep-alive':>17} {'new connection':>17}")
    print(f"{'page':<22} {'median':>8} {'p95':>8} {'median':>8} {'p95':>8} {'KiB':>7}")
    for name, (median, p95, size), (fresh_median, fresh_p95, _) in rows:
        print(f"{name:<22} {median:>8.1f} {p95:>8.1f} {fresh_median:>8.1f} {fresh_p95:>8.1f}"
              f" {size / 1024:>7.1f}")


def entry() -> None:
    args = main_args()
    report(run(args), args)


if __name__ == "__main__":
    entry()
