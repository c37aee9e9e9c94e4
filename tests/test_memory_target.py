"""The memory target's own edges, beyond the conformance suite: references to objects a
cycle has yet to create (SCIM-like ids), and a mapping that names no reference attribute."""

from __future__ import annotations

import signal
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conformance import MemoryHarness
from tests.test_conformance import DAY, apply, run

NESTED = """
  - name: all
    key: all
    members: "false"
    nested: [units]
    member_attribute: members
    anchor: externalId
    attributes:
      displayName: all-units
"""


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[MemoryHarness]:
    made = MemoryHarness(tmp_path)
    made.write_config()
    yield made
    made.stop()


def with_mapping(harness: MemoryHarness, text: str) -> None:
    path = harness.root / "memory.yaml"
    path.write_text(text, encoding="utf-8")
    harness.mapping = path
    harness.write_config()


@pytest.fixture
def deadline() -> Iterator[list[str]]:
    """An apply that loops is a failure, not a hung test run (whatever catches the
    interruption, the list says it came)."""
    expired: list[str] = []

    def expire(*_: object) -> None:
        expired.append("the apply did not finish in 20 s")
        raise TimeoutError(expired[0])

    signal.signal(signal.SIGALRM, expire)
    signal.alarm(20)
    yield expired
    signal.alarm(0)


def test_a_group_nesting_one_that_cannot_be_made_still_ends_the_cycle(harness, capsys,
                                                                       deadline):
    """A unit group whose only member's create is refused waits; the group that nests
    it is made without it and the cycle ends (partial), never waiting in a loop."""
    with_mapping(harness, harness.mapping.read_text(encoding="utf-8") + NESTED)
    harness.org["units"].append({"id": "new", "name": "Ny Afdeling", "parent": "root"})
    harness.org["persons"].append({"id": "p6", "given_name": "Bjørn", "surname": "Holm"})
    harness.org["engagements"].append({"id": "e6", "person": "p6", "unit": "new",
                                       "primary": True, "valid_from": "2020-01-01"})
    harness.org["addresses"].append({"id": "a6", "owner": "p6", "type": "email",
                                     "value": "bjørn.holm@kolding.example",
                                     "visibility": "public"})
    code, _, err = run(harness, capsys, "apply", "--today", DAY)
    assert deadline == [] and code == 1, err
    found = harness.found()
    assert found.members["all-units"] == {found.groups[name].locator for name in
                                          ("kolding-kommune", "boern-og-unge",
                                           "aertebjerg-skole", "it-afdelingen")}
    assert "ny-afdeling" not in found.groups


def test_a_follow_up_keeps_what_the_create_recorded(harness, capsys):
    """A person created before their manager gets the manager by a follow-up; the
    registry row keeps the id the create gave it."""
    assert apply(harness, capsys) == 0
    with sqlite3.connect(harness.root / "store.db") as db:
        rows = db.execute("SELECT key, locator, anchor FROM accounts WHERE kind = 'user'"
                          ).fetchall()
    assert len(rows) == 5 and all(locator and anchor == locator for _, locator, anchor in rows)


@pytest.mark.parametrize(("old", "new"), [
    ("member_attribute: members", "member_attribute: member"),
    ("manager_attribute: manager", "manager_attribute: boss"),
])
def test_references_in_an_attribute_the_target_does_not_hold_as_such_are_refused(
        harness, capsys, old, new):
    """A member added by hand could not be told from ours, and every cycle would
    rewrite them all: the plan is refused, naming the mapping's file and key."""
    with_mapping(harness, harness.mapping.read_text(encoding="utf-8").replace(old, new))
    code, _, err = run(harness, capsys, "plan", "--today", DAY)
    assert code != 0
    name = new.split(": ")[1]
    assert "memory.yaml:" in err and f"{name!r} does not hold references" in err, err
    assert harness.found().users == {}
