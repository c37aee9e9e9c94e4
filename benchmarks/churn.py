"""A day's worth of HR changes to a generated org, for the churn cycle of benchmarks/scale.py:
hires, leavers, moves between units, surname renames and job title changes, in equal parts.

Deterministic (its own `random.Random(seed)`); the org given is left as it was. Leavers,
movers, renamed and retitled persons are distinct persons with one engagement, active and
primary and open-ended, who manage no unit: so each change is exactly the one intended
(no second engagement keeps a leaver engaged, no unit loses its manager).
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import date, timedelta
from typing import Any

from syncd.sampleorg import SURNAMES, Record, Snapshot

KINDS = ("hires", "leavers", "moves", "renames", "retitles")


def churned(org: Snapshot, share: float, today: date, seed: int = 12) -> tuple[Snapshot, int]:
    """A copy of `org` with `share` of its persons changed (KINDS in equal parts, at least
    one of each), dated so that the changes hold on `today`; and how many changes."""
    rng = random.Random(seed)
    each = max(1, round(len(org["persons"]) * share / len(KINDS)))
    out: Snapshot = {kind: list(records) for kind, records in org.items()}
    chosen = rng.sample(_plain_staff(org, today), 4 * each)
    yesterday = (today - timedelta(days=1)).isoformat()
    units, jobs = _unit_ids(org, today), _jobs(org)
    changes = (  # leavers, moves, retitles; the fourth share is renamed below
        lambda e: {"valid_to": yesterday},
        lambda e: {"unit": _other(rng, units, e["unit"])},
        lambda e: {"job_function": _other(rng, jobs, e["job_function"])},
    )
    for n, change in enumerate(changes):
        _replace(out["engagements"], {e["id"]: change(e) for e in chosen[n::4]})
    renamed = {e["person"] for e in chosen[3::4]}
    _replace(out["persons"], {p["id"]: {"surname": _other(rng, SURNAMES, p["surname"])}
                              for p in org["persons"] if p["id"] in renamed})
    _hire(out, rng, each, yesterday, (units, jobs))
    return out, each * len(KINDS)


def _plain_staff(org: Snapshot, today: date) -> list[Record]:
    """The engagements of persons whose only engagement is active, primary, open-ended,
    and who manage nothing: the ones whose change has one plain effect."""
    per_person = Counter(e["person"] for e in org["engagements"])
    managers = {m["person"] for m in org["managers"]}
    day = today.isoformat()
    return [
        e for e in org["engagements"]
        if per_person[e["person"]] == 1 and e["person"] not in managers and e["primary"]
        and (e["valid_from"] or "") <= day and e["valid_to"] is None
    ]  # fmt: skip


def _replace(records: list[Record], changes: dict[str, dict[str, Any]]) -> None:
    """Each record named in `changes` replaced, in place in the list, by a changed copy."""
    for i, record in enumerate(records):
        change = changes.get(record["id"])
        if change:
            records[i] = {**record, **change}


def _hire(out: Snapshot, rng: random.Random, count: int, start: str,
          units_and_jobs: tuple[list[str], list[str]]) -> None:
    """`count` new persons, each with one primary engagement that began `start` in one of
    the units, as one of the jobs; their given names are existing persons' and their
    surnames common ones, so that they collide as real names do."""
    persons, engagements = out["persons"], out["engagements"]
    names = rng.sample(persons, count)
    units, jobs = units_and_jobs
    for n, named in enumerate(names, 1):
        pid, eid = f"p-hire-{n}", f"e-hire-{n}"
        persons.append({"id": pid, "given_name": named["given_name"],
                        "surname": rng.choice(SURNAMES)})
        engagements.append({
            "id": eid, "person": pid, "unit": rng.choice(units),
            "job_function": rng.choice(jobs), "engagement_type": "Månedslønnet, fuldtid",
            "primary": True, "valid_from": start, "valid_to": None,
        })  # fmt: skip


def _unit_ids(org: Snapshot, today: date) -> list[str]:
    """The units open on `today`, the root aside."""
    day = today.isoformat()
    return [u["id"] for u in org["units"] if u["parent"] is not None
            and (u["valid_from"] or "") <= day and u["valid_to"] is None]


def _jobs(org: Snapshot) -> list[str]:
    return sorted({e["job_function"] for e in org["engagements"]})


def _other(rng: random.Random, choices: list[str] | tuple[str, ...], current: str) -> str:
    """A random choice that is not `current`."""
    while True:
        picked = rng.choice(choices)
        if picked != current:
            return picked
