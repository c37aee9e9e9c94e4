"""Leases in the store: one apply per target, one ingest, across processes and hosts.

The daemon's own jobs are kept apart by locks in memory; these leases keep a `syncd
apply` or `plan` from the command line (or a second daemon on another host sharing a
PostgreSQL store) from applying to the same target, or ingesting, at the same time. A
holder that died is recognised (same host, process gone) or its lease runs out.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from syncd.errors import SyncdError
from syncd.store.schema import locks

LEASE = timedelta(minutes=10)  # long applies renew it (cycle.RENEW_EVERY)
POLL = 0.2  # seconds between tries while waiting for a lease


class Busy(SyncdError):
    """Another process holds the lease right now."""


def _me() -> str:
    """host:pid:thread: the daemon's jobs are threads of one process."""
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


def _dead(holder: str, expires: datetime) -> bool:
    if expires.replace(tzinfo=expires.tzinfo or UTC) < datetime.now(UTC):
        return True
    host, pid, _thread = [*holder.rsplit(":", 2), "", ""][:3]
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


@contextmanager
def lease(engine: Engine, name: str, wait: float = 0.0) -> Iterator[None]:
    """Hold the lease `name` for the block; wait up to `wait` seconds for it, then raise
    Busy naming the holder."""
    me = _me()
    deadline = time.monotonic() + wait
    while True:
        try:
            _acquire(engine, name, me)
            break
        except Busy:
            if time.monotonic() >= deadline:
                raise
            time.sleep(POLL)
    try:
        yield
    finally:
        with engine.begin() as conn:
            conn.execute(delete(locks).where(locks.c.name == name, locks.c.holder == me))


def renew(engine: Engine, name: str) -> None:
    """Push the lease's end out again (long applies call this now and then)."""
    with engine.begin() as conn:
        conn.execute(update(locks).where(locks.c.name == name, locks.c.holder == _me())
                     .values(expires_at=datetime.now(UTC) + LEASE))


def _acquire(engine: Engine, name: str, me: str) -> None:
    now = datetime.now(UTC)
    with engine.begin() as conn:
        row = conn.execute(select(locks).where(locks.c.name == name)).first()
        if row is None:
            try:
                conn.execute(insert(locks).values(name=name, holder=me, since=now,
                                                  expires_at=now + LEASE))
                return
            except IntegrityError:
                row = None  # someone was faster: report them below
        elif row.holder == me or _dead(row.holder, row.expires_at):
            taken = conn.execute(
                update(locks).where(locks.c.name == name, locks.c.holder == row.holder)
                .values(holder=me, since=now, expires_at=now + LEASE)
            ).rowcount
            if taken == 1:
                return
    with engine.connect() as conn:
        row = conn.execute(select(locks).where(locks.c.name == name)).first()
    holder = f"{row.holder} since {row.since:%Y-%m-%d %H:%M:%S}" if row else "another process"
    raise Busy(f"{name} is held by {holder}; try again when it is done")
