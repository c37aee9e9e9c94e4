"""A process killed mid-apply: the next cycle finishes the work, nothing duplicated,
lost or renamed. Real slapd, real `syncd apply` processes, SIGKILL at random points."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from syncd.store import open_store
from syncd.store.schema import accounts
from syncd.testing.slapd import Slapd
from tests.conftest import REPO
from tests.sync_env import DAY, SyncEnv

pytestmark = pytest.mark.slapd


def reserved_usernames(env: SyncEnv) -> dict[str, str]:
    store = open_store(f"sqlite:///{env.root / 'store.db'}")
    with store.engine.connect() as conn:
        rows = conn.execute(select(accounts.c.key, accounts.c.username)
                            .where(accounts.c.kind == "user"))
        result = {key: username for key, username in rows}
    store.close()
    return result


def kill_after_changes(env: SyncEnv, changes: int, log: Path) -> bool:
    """Start `syncd apply`, SIGKILL it once `changes` changes have landed (it is then in
    the middle of the next one). False when it finished first."""
    with log.open("w") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "syncd", "apply", "--today", DAY, "-c", str(env.config)],
            cwd=REPO, stdout=subprocess.DEVNULL, stderr=stderr,
            env={**os.environ, "PYTHONPATH": str(REPO)},
        )
        deadline = time.monotonic() + 60
        while process.poll() is None and time.monotonic() < deadline:
            if log.read_text().count("syncd.audit") >= changes:
                process.send_signal(signal.SIGKILL)
                process.wait()
                return True
            time.sleep(0.005)
        process.wait()
        return False


def sample_env(root, slapd) -> SyncEnv:
    env = SyncEnv(root, slapd)
    env.org = json.loads((REPO / "samples" / "sample-org.json").read_text(encoding="utf-8"))
    env.write_org()
    return env


@pytest.mark.parametrize("seed", [1, 2])
def test_killed_applies_are_finished_by_the_next_cycle(tmp_path, slapd, capsys, seed):
    rng = random.Random(seed)
    (tmp_path / "killed").mkdir()
    env = sample_env(tmp_path / "killed", slapd)
    given: dict[str, str] = {}  # person -> the username as first reserved
    kills = 0
    for run in range(3):  # the sample org needs 315 changes: kill three times on the way
        if not kill_after_changes(env, rng.randint(1, 90), tmp_path / f"apply{run}.log"):
            break
        kills += 1
        for person, username in reserved_usernames(env).items():
            assert given.setdefault(person, username) == username, "a reserved name changed"
    assert kills == 3, "an apply finished before it could be killed: kill earlier"

    code, out, err = env.apply(capsys)
    assert code == 0, out + err
    users = env.users()  # fails on two entries for one person
    assert {p: attrs["uid"][0] for p, (_, attrs) in users.items() if p in given} == {
        p: u for p, u in given.items() if p in users
    }, "an account created before a kill was renamed"
    assert env.plan(capsys)["changes"] == []

    clean_root = tmp_path / "clean"
    clean_root.mkdir()
    with Slapd(clean_root / "slapd") as clean_server:
        clean = sample_env(clean_root, clean_server)
        clean.apply(capsys)
        expected = {p: attrs["uid"][0] for p, (_, attrs) in clean.users().items()}
        assert {p: attrs["uid"][0] for p, (_, attrs) in users.items()} == expected
        groups = clean.search("(objectClass=groupOfNames)", f"ou=groups,{clean.base}")
        for dn, attrs in groups.items():
            cn = attrs["cn"][0]
            assert env.members(cn) == {m.lower() for m in attrs["member"]}, dn
