"""A store that cannot be written, is damaged or has a full disk is an error, not a bug:
one line naming the store file and what to do, exit 1, no traceback, no personal data.
And processes creating a new SQLite store at once, or killed while creating it, leave a
whole schema or none.

The commands run as real processes (`python -m syncd`). A read-only file stops root only
without CAP_DAC_OVERRIDE, so as root they run with it dropped (setpriv); the full disk is
a small tmpfs in a user and mount namespace of their own (unshare), no root needed.
"""

from __future__ import annotations

import copy
import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, inspect

import syncd
from syncd.errors import StoreError
from syncd.objects import Owned
from syncd.org import Snapshot
from syncd.store import SCHEMA_VERSION, AuditEntry, OrgView, Store, open_store
from syncd.store.schema import metadata
from tests.conftest import write_json
from tests.sync_env import DAY, SyncEnv

CODE = str(Path(syncd.__file__).parent.parent)  # the syncd under test, for the children
SECRET_PHONE = "+45 7979 SECRET"
NO_ROOT = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search,-fowner", "--"]
READERS = [("validate",), ("show", "person", "p1"), ("plan",)]
WRITERS = [("ingest",), ("apply",)]


def syncd_process(config: Path, *argv: str, prefix: tuple[str, ...] = ()
                  ) -> tuple[int, str, str]:
    """`syncd ARGV -c CONFIG` as its own process (as root: without root's override)."""
    command = [*prefix, *(NO_ROOT if os.geteuid() == 0 else []), sys.executable, "-m",
               "syncd", *argv, "--today", DAY, "-c", str(config)]
    if argv[0] in ("validate", "ingest"):
        command.remove("--today")
        command.remove(DAY)
    done = subprocess.run(command, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": CODE}, cwd=config.parent)
    return done.returncode, done.stdout, done.stderr


def assert_store_error(result: tuple[int, str, str], store: Path, problem: str) -> None:
    """Exit 1, the last line names the store and the problem, no traceback."""
    code, out, err = result
    assert code == 1, out + err
    assert "Traceback" not in err and "bug" not in err, err
    assert err.strip().splitlines()[-1].startswith(f"syncd: the store {store}: {problem}"), err


def checkpointed(store: Path) -> None:
    """Fold the -wal into the file and remove -wal and -shm, as a clean stop leaves it."""
    with sqlite3.connect(store) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    for suffix in ("-wal", "-shm"):
        store.with_name(store.name + suffix).unlink(missing_ok=True)


@pytest.fixture
def env(tmp_path: Path, slapd: Any) -> SyncEnv:
    """A store that has applied the small org once (its registry holds five users)."""
    env = SyncEnv(tmp_path, slapd)
    code, out, err = syncd_process(env.config, "apply")
    assert code == 0, out + err
    checkpointed(tmp_path / "store.db")
    return env


# --- read-only -----------------------------------------------------------------------


@pytest.mark.slapd
@pytest.mark.parametrize("read_only", ["file", "folder"])
def test_a_read_only_store_is_read_by_show_plan_validate_and_refused_by_writers(
        env, read_only):
    store = env.root / "store.db"
    locked = store if read_only == "file" else env.root
    mode = locked.stat().st_mode
    locked.chmod(0o444 if read_only == "file" else 0o555)
    try:
        for argv in READERS:
            code, out, err = syncd_process(env.config, *argv)
            assert code == 0, (argv, out + err)
        assert "Søren Ærø" in syncd_process(env.config, "show", "person", "p1")[1]
        for argv in WRITERS:
            assert_store_error(syncd_process(env.config, *argv), store, "it is read-only")
    finally:
        locked.chmod(mode)


def org_read_across_an_ingest(url: str, tiny_org: dict[str, Any]) -> OrgView:
    """The org as a read-only store (`show`, `plan`: no lease) reads it while an ingest
    through another engine lands between its first query and the rest."""
    ingesting = open_store(url)
    ingesting.ingest(_snapshot(copy.deepcopy(tiny_org), 6), "hr", max_shrink=1.0)
    reader = open_store(url, read_only=True)
    tiny_org["persons"][0]["surname"] = "Changed"

    @event.listens_for(reader.engine, "after_cursor_execute")
    def ingest_in_between(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.startswith("SELECT") and tiny_org["persons"][0]["surname"] == "Changed":
            ingesting.ingest(_snapshot(tiny_org, 6), "hr", max_shrink=1.0)
            tiny_org["persons"][0]["surname"] = "ingested"

    try:
        return reader.org(date(2026, 12, 1))
    finally:
        assert tiny_org["persons"][0]["surname"] == "ingested"  # it did land in between
        reader.close()
        ingesting.close()


def test_a_reader_without_lease_sees_one_ingest_whole(tmp_path, tiny_org):
    org = org_read_across_an_ingest(f"sqlite:///{tmp_path / 'store.db'}", tiny_org)
    assert org.person("p1").surname == "Ærø"


def test_show_of_a_store_not_there_creates_none(tmp_path):
    with pytest.raises(StoreError, match=r"store.db does not exist yet; `syncd ingest`"):
        open_store(f"sqlite:///{tmp_path / 'store.db'}", read_only=True)
    assert list(tmp_path.iterdir()) == []


# --- damaged -------------------------------------------------------------------------


def _garbage(store: Path) -> None:
    store.write_bytes(os.urandom(store.stat().st_size))


def _bad_pages(store: Path) -> None:
    """Every other page after the first few overwritten: a header that opens, tables
    whose pages are noise."""
    data = bytearray(store.read_bytes())
    size = int.from_bytes(data[16:18], "big")
    for page in range(3, len(data) // size, 2):
        data[page * size:(page + 1) * size] = b"\xa5" * size
    store.write_bytes(bytes(data))


@pytest.mark.slapd
@pytest.mark.parametrize("damage", [_garbage, _bad_pages], ids=["garbage", "bad-pages"])
def test_a_damaged_store_is_one_line_for_every_command(env, damage):
    store = env.root / "store.db"
    damage(store)
    for argv in [*READERS, *WRITERS]:
        assert_store_error(syncd_process(env.config, *argv), store, "it is damaged")


# --- full disk -----------------------------------------------------------------------

_FILL = """\
import os, sys
folder, keep = sys.argv[1], int(sys.argv[2])
free = os.statvfs(folder).f_bavail * os.statvfs(folder).f_frsize
with open(os.path.join(folder, "filler"), "wb") as filler:
    filler.write(b"\\0" * max(0, free - keep))
"""


def _bigger(org: dict[str, Any], persons: int) -> dict[str, Any]:
    """`org` with many more persons, each with a phone number that is secret."""
    for number in range(6, persons):
        org["persons"].append({"id": f"p{number}", "given_name": "Ny", "surname": "Person"})
        org["addresses"].append({"id": f"a{number}", "owner": f"p{number}", "type": "phone",
                                 "value": f"{SECRET_PHONE}{number}", "visibility": "secret"})
    return org


def _on_small_disk(folder: Path, *commands: list[str]) -> list[str]:
    """The output of each of `commands`, run where folder/disk is a 2 MB tmpfs."""
    script = " ; echo '#--#' ; ".join(
        " ".join(f"'{word}'" for word in command) + " 2>&1" for command in commands)
    done = subprocess.run(
        ["unshare", "--user", "--map-root-user", "--mount", "sh", "-c",
         f"mount -t tmpfs -o size=2m tmpfs disk && {script}"],
        capture_output=True, text=True, timeout=300, cwd=folder,
        env={**os.environ, "PYTHONPATH": CODE})
    assert done.stdout.count("#--#") == len(commands) - 1, done.stdout + done.stderr
    return done.stdout.split("#--#")


@pytest.mark.slapd
@pytest.mark.parametrize("command", ["ingest", "apply"])
def test_a_full_disk_is_one_line_naming_the_store_and_no_personal_data(
        tmp_path, slapd, command):
    env = SyncEnv(tmp_path, slapd)
    (tmp_path / "disk").mkdir()
    env.config.write_text(env.config.read_text().replace("sqlite:///store.db",
                                                         "sqlite:///disk/store.db"))
    write_json(tmp_path / "bigger.json", _bigger(copy.deepcopy(env.org), 3000))
    syncd_cli = [sys.executable, "-m", "syncd"]
    config = ["-c", str(env.config)]
    first, _, failed, shown = _on_small_disk(
        tmp_path,
        [*syncd_cli, "apply", "--today", DAY, *config],
        [sys.executable, "-c", _FILL, "disk", str(96 * 1024)],
        ["sh", "-c", 'cp bigger.json org.json && exec "$@"', "-", *syncd_cli, command,
         *config],
        [*syncd_cli, "show", "person", "p1", *config],
    )
    assert "applied" in first, first
    assert "Traceback" not in failed and SECRET_PHONE not in failed, failed
    assert failed.strip().splitlines()[-1].startswith(
        f"syncd: the store {tmp_path}/disk/store.db: its disk is full"), failed
    assert "Søren Ærø" in shown and "p7" not in shown  # the last good snapshot is kept


# --- the store's boundary, in process --------------------------------------------------


def _full_from_now_on(store: Store) -> None:
    """New connections may not grow the file past its size now: SQLite's real "database
    or disk is full" (max_page_count is per connection, so the pool starts over)."""
    with store.engine.connect() as conn:
        pages = conn.exec_driver_sql("PRAGMA page_count").scalar()
    store.engine.dispose()

    @event.listens_for(store.engine, "connect")
    def limit(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.execute(f"PRAGMA max_page_count={pages}")


def _snapshot(org: dict[str, Any], persons: int) -> Snapshot:
    return Snapshot(records=_bigger(org, persons), origin={kind: "org.json" for kind in org})


def test_a_failed_ingest_names_the_kind_and_hides_every_value(store, tiny_org):
    store.ingest(_snapshot(copy.deepcopy(tiny_org), 6), "hr", max_shrink=1.0)
    _full_from_now_on(store)
    with pytest.raises(StoreError) as failed:
        store.ingest(_snapshot(tiny_org, 2000), "hr", max_shrink=1.0)
    message = str(failed.value)
    assert message.startswith(f"the store {store.engine.url.database}: its disk is full "
                              "(while writing the ")
    assert "\n" not in message
    everything = message + repr(failed.value.__cause__) + str(failed.value.__cause__)
    assert SECRET_PHONE not in everything and "Person" not in everything


def test_a_failed_record_names_the_object(store):
    _full_from_now_on(store)
    entry = AuditEntry("ldap", "user", "p1", "uid=a,ou=people,dc=x", "create",
                       [{"name": "description", "after": ["x" * 200_000]}], "new", "users",
                       "hr", "ok")
    with pytest.raises(StoreError, match=r"its disk is full \(while recording the create "
                                         r"of user p1 in ldap\)"), store.recorder() as recorder:
        recorder.record(entry, Owned("ldap", "user", "p1", entry.locator, "a", None,
                                     "active"))


# --- creating a new store ------------------------------------------------------------

_OPEN_AT = """\
import sys, time
from syncd.store import open_store
for url in sys.argv[2:]:
    time.sleep(max(0.0, float(sys.argv[1]) - time.time()))
    open_store(url).close()
"""

_KILLED_AFTER_FIRST_TABLE = """\
import os, signal, sys
from sqlalchemy import Engine, event
from syncd.store import open_store

@event.listens_for(Engine, "after_cursor_execute")
def killed(conn, cursor, statement, *args):
    if statement.lstrip().upper().startswith("CREATE TABLE"):
        os.kill(os.getpid(), signal.SIGKILL)

open_store(sys.argv[1])
"""


def _python(script: str, *argv: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", script, *argv], text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            env={**os.environ, "PYTHONPATH": CODE})


def _tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as conn:
        names = {row[0] for row in conn.execute("SELECT name FROM sqlite_master "
                                                "WHERE type = 'table'")}
    conn.close()
    return names


def test_processes_creating_one_new_store_at_once_all_succeed(tmp_path):
    """30 processes open each of three new stores at once (three races, not one)."""
    paths = [tmp_path / f"store{number}.db" for number in range(3)]
    start = time.time() + 3  # every child imported and waiting by then
    children = [_python(_OPEN_AT, str(start), *(f"sqlite:///{path}" for path in paths))
                for _ in range(30)]
    results = [(child.wait(timeout=120), child.stdout.read()) for child in children]
    assert [output for code, output in results if code != 0] == []
    for path in paths:
        assert _tables(path) == set(metadata.tables)
        assert open_store(f"sqlite:///{path}", read_only=True).schema_version() == \
            SCHEMA_VERSION


def test_a_kill_while_creating_the_store_leaves_no_table(tmp_path):
    path = tmp_path / "store.db"
    child = _python(_KILLED_AFTER_FIRST_TABLE, f"sqlite:///{path}")
    assert child.wait(timeout=60) == -signal.SIGKILL, child.stdout.read()
    assert _tables(path) == set()
    assert inspect(open_store(f"sqlite:///{path}").engine).get_table_names() == sorted(
        metadata.tables)
