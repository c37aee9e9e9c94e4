"""One behavioural suite every target passes, through the real command line.

The memory target runs it in-process; OpenLDAP against a real slapd (a fresh one per
test); Active Directory against the session's Samba DC (a fresh domain per test). Each
scenario is what a sync daemon must get right whatever it writes to: create, update,
move, disable, re-enable, delete after the period, membership deltas, objects that are
not ours, adoption, the delete guard, a refused object, idempotence, and a run killed
mid-apply.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import syncd.cycle
from syncd.cli import main
from syncd.plan.model import Change
from tests.conformance import HARNESSES, Harness
from tests.sync_env import DAY

UNIT_GROUPS = {"kolding-kommune", "boern-og-unge", "aertebjerg-skole", "it-afdelingen"}
USERNAMES = {"soerena", "aaseo", "jensh", "jhansen", "reneel"}
LATER = "2027-01-15"  # past delete_after_days (30) after DAY


@pytest.fixture(params=sorted(HARNESSES))
def harness(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Harness]:
    harness_class = HARNESSES[request.param]
    made = harness_class(tmp_path, **{name: request.getfixturevalue(name)
                                      for name in harness_class.fixtures})
    made.write_config()
    yield made
    made.stop()


def run(harness: Harness, capsys: pytest.CaptureFixture[str], *argv: str
        ) -> tuple[int, str, str]:
    harness.write_org()
    code = main([*argv, "-c", str(harness.root / "config.yaml")])
    out, err = capsys.readouterr()
    return code, out, err


def apply(harness: Harness, capsys: pytest.CaptureFixture[str], day: str = DAY) -> int:
    return run(harness, capsys, "apply", "--today", day)[0]


def plan(harness: Harness, capsys: pytest.CaptureFixture[str], day: str = DAY
         ) -> dict[str, Any]:
    code, out, err = run(harness, capsys, "plan", "--json", "--today", day)
    assert code == 0, err
    return json.loads(out)


def engagement(harness: Harness, engagement_id: str) -> dict[str, Any]:
    return next(e for e in harness.org["engagements"] if e["id"] == engagement_id)


def test_create_then_nothing_to_do(harness, capsys):
    assert apply(harness, capsys) == 0
    found = harness.found()
    assert set(found.users) == USERNAMES
    assert found.members["aertebjerg-skole"] == {"aaseo", "jensh"}
    assert found.members["managers"] == {"soerena", "jensh"}
    assert set(found.groups) >= UNIT_GROUPS
    # a manager created after the person they manage is named all the same
    assert found.managers == {"aaseo": "jensh", "jensh": "soerena", "jhansen": "soerena",
                              "reneel": "soerena"}
    again = plan(harness, capsys)
    assert again["changes"] == [] and again["summary"]["create"] == 0


def test_an_update_changes_that_attribute_only(harness, capsys):
    apply(harness, capsys)
    engagement(harness, "e4")["job_function"] = "Arkitekt"
    changes = plan(harness, capsys)["changes"]
    assert [(c["action"], c["key"]) for c in changes] == [("update", "p4")]
    assert [a["name"] for a in changes[0]["attributes"]] == ["title"]
    assert apply(harness, capsys) == 0
    assert harness.found().users["jhansen"].get("title") == ("Arkitekt",)


def test_a_leaver_is_disabled_enabled_again_on_return_and_deleted_after_the_period(
        harness, capsys):
    apply(harness, capsys)
    before = harness.found().users["reneel"]
    engagement(harness, "e5")["valid_to"] = "2026-11-30"
    assert apply(harness, capsys) == 0
    gone = harness.found().users["reneel"]
    assert harness.is_disabled(gone)
    assert gone.anchor == before.anchor  # the same object
    assert (gone.locator != before.locator) is harness.moves  # moved where a target moves
    assert "reneel" not in harness.found().members.get("boern-og-unge", set())

    engagement(harness, "e5")["valid_to"] = None
    assert apply(harness, capsys) == 0
    back = harness.found().users["reneel"]
    assert not harness.is_disabled(back)
    assert (back.anchor, back.locator) == (before.anchor, before.locator)
    assert harness.found().members["boern-og-unge"] == {"reneel"}

    engagement(harness, "e5")["valid_to"] = "2026-11-30"
    apply(harness, capsys)
    assert "reneel" in harness.found().users  # disabled, kept for the period
    assert apply(harness, capsys, LATER) == 0
    assert "reneel" not in harness.found().users


def test_membership_changes_by_delta_and_a_member_added_by_hand_stays(harness, capsys):
    harness.add_foreign_user("svcbackup")
    apply(harness, capsys)
    found = harness.found()
    harness.add_member(found.groups["aertebjerg-skole"], found.users["svcbackup"].locator)
    engagement(harness, "e2")["unit"] = "it"  # Åse moves from the school to IT
    assert apply(harness, capsys) == 0
    members = harness.found().members
    assert members["aertebjerg-skole"] == {"jensh", "svcbackup"}
    assert members["it-afdelingen"] == {"jhansen", "aaseo"}
    assert plan(harness, capsys)["changes"] == []


def test_an_object_that_is_not_ours_is_left_alone(harness, capsys):
    harness.add_foreign_user("helpdesk")
    assert apply(harness, capsys) == 0
    engagement(harness, "e4")["valid_to"] = "2026-11-30"
    apply(harness, capsys)
    apply(harness, capsys, LATER)
    helpdesk = harness.found().users["helpdesk"]
    assert helpdesk.get("title") == ("by hand",) and not harness.is_disabled(helpdesk)
    assert plan(harness, capsys, LATER)["foreign"] >= 1


def test_a_pre_existing_account_is_adopted_by_correlation(harness, capsys):
    harness.add_foreign_user("jhansen-old", person_id="p4")
    first = plan(harness, capsys)
    p4 = [c for c in first["changes"] if c["key"] == "p4"]
    assert [c["action"] for c in p4] == ["update"], p4
    assert "adopts a pre-existing entry" in p4[0]["why"]
    assert apply(harness, capsys) == 0
    found = harness.found()
    assert "jhansen" not in found.users  # no second account
    assert found.users["jhansen-old"].get("title") == ("Udvikler",)
    assert found.members["it-afdelingen"] == {"jhansen-old"}
    assert plan(harness, capsys)["changes"] == []


def test_the_delete_guard_holds_a_mass_disable(harness, capsys):
    harness.write_config(max_deletes=2, max_delete_ratio=0.1)
    apply(harness, capsys)
    for engagement_id in ("e2", "e4", "e5"):
        engagement(harness, engagement_id)["valid_to"] = "2026-11-30"
    assert apply(harness, capsys) == 3  # a guard stopped it
    assert not any(harness.is_disabled(e) for e in harness.found().users.values())


def test_a_refused_object_leaves_the_others_and_is_made_once_fixed(harness, capsys):
    harness.org["persons"].append({"id": "p6", "given_name": "Bjørn", "surname": "Holm"})
    harness.org["engagements"].append({"id": "e6", "person": "p6", "unit": "it",
                                       "primary": True, "valid_from": "2020-01-01"})
    kind, refused, accepted = harness.refused_address
    harness.org["addresses"].append({"id": "a6", "owner": "p6", "type": kind,
                                     "value": refused, "visibility": "public"})
    code, _, err = run(harness, capsys, "apply", "--today", DAY)
    assert code == 1, err  # partial: work left undone is no success
    found = harness.found()
    assert set(found.users) == USERNAMES  # the five others are made
    assert found.members["it-afdelingen"] == {"jhansen"}  # no member that does not exist
    harness.org["addresses"][-1]["value"] = accepted
    assert apply(harness, capsys) == 0
    assert harness.found().members["it-afdelingen"] == {"jhansen", "bjoernh"}


class Killed(BaseException):
    """What SIGKILL does to a cycle, at a change boundary: nothing after it runs."""


def test_a_run_killed_mid_apply_is_finished_by_the_next(harness, capsys, monkeypatch):
    opened = syncd.cycle.open_target

    def dies_after_four(config: Any) -> Any:
        target = opened(config)
        applied = target.apply
        done = []

        def apply_then_maybe_die(change: Change) -> str | None:
            if len(done) == 4:
                raise Killed
            done.append(change)
            return applied(change)

        target.apply = apply_then_maybe_die  # type: ignore[method-assign]
        return target

    monkeypatch.setattr(syncd.cycle, "open_target", dies_after_four)
    with pytest.raises(Killed):
        run(harness, capsys, "apply", "--today", DAY)
    monkeypatch.undo()
    assert len(harness.found().everything) > 0
    assert apply(harness, capsys) == 0
    found = harness.found()
    assert set(found.users) == USERNAMES
    anchors = [e.first(harness.anchor_attribute) for e in found.users.values()]
    assert len(anchors) == len(set(anchors))  # one object per person, never two
    assert found.members["managers"] == {"soerena", "jensh"}
    assert plan(harness, capsys)["changes"] == []
