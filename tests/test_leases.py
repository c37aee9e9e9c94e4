"""Leases left behind by this very process are taken back, not a crash or a 10-minute
wait; a cycle skipped because another process holds its target is visible and retried."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import insert, select

from syncd.store import Busy, open_store
from syncd.store import locks as lease_locks
from syncd.store.schema import locks
from tests.daemon_env import DaemonProcess, daemon_config
from tests.sync_env import SyncEnv


def holders(store) -> list[str]:
    with store.engine.connect() as conn:
        return [row.holder for row in conn.execute(select(locks))]


def leave_behind(store, name: str) -> None:
    """What a cycle leaves whose letting go failed (the store was down): the row of a
    lease this thread took, which this process no longer holds."""
    now = datetime.now(UTC)
    with store.engine.begin() as conn:
        conn.execute(insert(locks).values(name=name, holder=lease_locks._me(), since=now,
                                          expires_at=now + lease_locks.LEASE))


def test_this_thread_takes_back_a_lease_it_could_not_let_go_of(store):
    leave_behind(store, "target ldap")
    with store.lease("target ldap"):  # once "already held by this thread"
        assert len(holders(store)) == 1
    assert holders(store) == []


def test_a_lease_of_a_thread_of_this_process_that_is_gone_is_taken(store):
    worker = threading.Thread(target=leave_behind, args=(store, "target ldap"))
    worker.start()
    worker.join()
    with store.lease("target ldap"):
        pass


def test_a_second_hold_in_one_thread_is_refused_not_taken_back(store):
    with store.lease("ingest"), pytest.raises(Busy, match="ingest is held by"), \
            store.lease("ingest"):
        pass
    assert holders(store) == []


def test_a_lease_of_a_live_thread_is_busy_through_another_spelling_of_the_store(tmp_path):
    """The same database opened twice in one process (its URL spelt two ways) is one
    store: a lease a live thread holds is not taken from it."""
    first = open_store(f"sqlite:///{tmp_path / 'store.db'}")
    second = open_store(f"sqlite:///{tmp_path}/./store.db")
    taken, release = threading.Event(), threading.Event()

    def hold() -> None:
        with first.lease("target ldap"):
            taken.set()
            release.wait(10)

    worker = threading.Thread(target=hold)
    worker.start()
    taken.wait(5)
    try:
        with pytest.raises(Busy, match="target ldap is held by"), second.lease("target ldap"):
            pass
    finally:
        release.set()
        worker.join()
        first.close()
        second.close()


@pytest.mark.slapd
def test_a_skipped_cycle_shows_in_status_and_runs_later(tmp_path, slapd):
    env = SyncEnv(tmp_path, slapd)
    daemon = DaemonProcess(env.config, daemon_config(env, interval="1s"),
                           tmp_path / "daemon.log")
    store = open_store(f"sqlite:///{tmp_path / 'store.db'}")
    try:
        with store.target_lease("ldap"):  # as a `syncd apply` by hand holds it
            daemon.start()
            daemon.wait_for(lambda: daemon.target()["skipped"], "a skipped cycle in /status")
            assert "target ldap is held by" in daemon.target()["skipped"]
            assert daemon.target()["result"] is None
        daemon.wait_for(lambda: daemon.target()["result"] == "success",
                        "the cycle once the lease is free")
        assert daemon.target()["skipped"] is None
        assert "cycle ldap skipped: target ldap is held by" in daemon.logged()
    finally:
        daemon.kill()
        store.close()
