"""Leases in the store: one apply per target, one ingest, across processes and hosts.

The daemon's own jobs are kept apart by locks in memory; these leases keep a `syncd
apply` or `plan` from the command line (or a second daemon on another host sharing a
PostgreSQL store) from applying to the same target, or ingesting, at the same time. A
holder that died is recognised (same host, process gone) or its lease runs out.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from syncd.errors import Busy, LeaseLost
from syncd.store.schema import locks

LEASE = timedelta(minutes=10)
RENEW_AFTER = LEASE / 3  # how long a holder may go before renewing
POLL = 0.2  # seconds between tries while waiting for a lease

log = logging.getLogger(__name__)


def _started(pid: int) -> str:
    """When process `pid` started (clock ticks since boot), so a reused pid is told apart
    from the holder it replaced (a container's PID 1 after a restart, say)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return "?"


def _process() -> str:
    pid = os.getpid()
    return f"{socket.gethostname()}:{pid}:{_started(pid)}"


def _me() -> str:
    """host:pid:start:thread: the daemon's jobs are threads of one process."""
    return f"{_process()}:{threading.get_ident()}"


# The leases this process holds right now, by (store, name): what the store says this
# process holds beyond them is a leftover (letting go failed, the store was down), taken
# back at once rather than waited out, and a second hold of one lease is refused.
_HELD: set[tuple[str, str]] = set()
_HELD_LOCK = threading.Lock()


def _dead(holder: str, expires: datetime) -> bool:
    """The lease ran out, or its holder was a process on this host that is gone, or this
    process, which no longer holds it (see _HELD; the caller checked that)."""
    if expires.replace(tzinfo=expires.tzinfo or UTC) < datetime.now(UTC):
        return True
    host, pid, started, _thread = [*holder.rsplit(":", 3), "", "", ""][:4]
    if host != socket.gethostname() or not pid.isdigit():
        return False
    if int(pid) == os.getpid() and started == _started(os.getpid()):
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return _started(int(pid)) != started


@contextmanager
def lease(engine: Engine, name: str, wait: float = 0.0) -> Iterator[None]:
    """Hold the lease `name` for the block; wait up to `wait` seconds for it, then raise
    Busy naming the holder. A lease the store says this process holds while it does not
    is a leftover (letting go of it failed, the store was down) and is taken back."""
    me, key = _me(), (_store_id(engine), name)
    deadline = time.monotonic() + wait
    while True:
        with _HELD_LOCK:  # check and take together: two threads never both take it
            try:
                if key in _HELD:  # by another thread of this process
                    raise _busy(engine, name)
                _acquire(engine, name, me)
                _HELD.add(key)
                break
            except Busy:
                if time.monotonic() >= deadline:
                    raise
        time.sleep(POLL)
    try:
        yield
    finally:
        with _HELD_LOCK:
            _HELD.discard(key)
        try:
            with engine.begin() as conn:
                conn.execute(delete(locks).where(locks.c.name == name, locks.c.holder == me))
        except SQLAlchemyError as exc:  # it runs out by itself; keep the first error
            log.warning("could not let go of lease %s (it expires by itself): %s", name, exc)


def _store_id(engine: Engine) -> str:
    """One name per database, however its URL is spelt (`d/./s.db` is `d/s.db`)."""
    url = engine.url
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        return "sqlite:" + os.path.realpath(url.database)
    return url.render_as_string(hide_password=True)


def release_mine(engine: Engine) -> None:
    """Let go of every lease this process holds, whichever thread took it: for a process
    about to exit with threads that will never return."""
    with engine.begin() as conn:
        conn.execute(delete(locks).where(locks.c.holder.startswith(_process() + ":")))


def renew(engine: Engine, name: str) -> None:
    """Push the lease's end out again; Busy if it was lost (it ran out and was taken)."""
    with engine.begin() as conn:
        renewed = conn.execute(
            update(locks).where(locks.c.name == name, locks.c.holder == _me())
            .values(expires_at=datetime.now(UTC) + LEASE)
        ).rowcount
    if renewed != 1:
        raise LeaseLost(f"{name}: this process lost its lease; stopping before it collides "
                        "with whoever holds it now")


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
    raise _busy(engine, name)


def _busy(engine: Engine, name: str) -> Busy:
    with engine.connect() as conn:
        row = conn.execute(select(locks).where(locks.c.name == name)).first()
    holder = f"{row.holder} since {row.since:%Y-%m-%d %H:%M:%S}" if row else "another process"
    return Busy(name, f"{name} is held by {holder}; try again when it is done")
