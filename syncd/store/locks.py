"""One cycle per target at a time, across processes and hosts: a lease in the store.

The daemon's own jobs are kept apart by a lock in memory; this lease keeps a `syncd
apply` from the command line (or a second daemon on another host sharing a PostgreSQL
store) from applying to the same target at the same time. A holder that died is
recognised (same host, process gone) or its lease runs out.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from syncd.errors import SyncdError
from syncd.store.schema import locks

LEASE = timedelta(hours=2)


class TargetBusy(SyncdError):
    """Another process is applying to this target right now."""


def _me() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _dead(holder: str, expires: datetime) -> bool:
    if expires.replace(tzinfo=expires.tzinfo or UTC) < datetime.now(UTC):
        return True
    host, _, pid = holder.rpartition(":")
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
def target_lease(engine: Engine, target: str) -> Iterator[None]:
    """Hold the target's lease for the block, or raise TargetBusy naming the holder."""
    me = _me()
    _acquire(engine, target, me)
    try:
        yield
    finally:
        with engine.begin() as conn:
            conn.execute(delete(locks).where(locks.c.name == target, locks.c.holder == me))


def renew(engine: Engine, target: str) -> None:
    """Push the lease's end out again (long applies call this now and then)."""
    with engine.begin() as conn:
        conn.execute(update(locks).where(locks.c.name == target, locks.c.holder == _me())
                     .values(expires_at=datetime.now(UTC) + LEASE))


def _acquire(engine: Engine, target: str, me: str) -> None:
    now = datetime.now(UTC)
    with engine.begin() as conn:
        row = conn.execute(select(locks).where(locks.c.name == target)).first()
        if row is None:
            try:
                conn.execute(insert(locks).values(name=target, holder=me, since=now,
                                                  expires_at=now + LEASE))
                return
            except IntegrityError:
                row = None  # someone was faster: report them below
        elif row.holder == me or _dead(row.holder, row.expires_at):
            taken = conn.execute(
                update(locks).where(locks.c.name == target, locks.c.holder == row.holder)
                .values(holder=me, since=now, expires_at=now + LEASE)
            ).rowcount
            if taken == 1:
                return
    with engine.connect() as conn:
        row = conn.execute(select(locks).where(locks.c.name == target)).first()
    holder = f"{row.holder} since {row.since:%Y-%m-%d %H:%M:%S}" if row else "another process"
    raise TargetBusy(f"target {target} is being synced by {holder}; try again when it is done")
