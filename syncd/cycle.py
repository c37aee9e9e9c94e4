"""One cycle: ingest, map, read, plan, guard, apply, record.

The only module that wires every stage together. `plan_target` computes and changes
nothing; `apply_plan` carries out a plan one change at a time, recording each in the
store as it lands, so a cycle killed half-way is finished by the next one.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from syncd import __version__
from syncd.config.loading import load_config
from syncd.config.model import Config
from syncd.errors import (
    ConfigError,
    MoveRefused,
    ObjectRejected,
    Problem,
    SnapshotRejected,
    SourceError,
    SyncdError,
)
from syncd.mapping.desired import Desired, desired_state
from syncd.mapping.rules import CompiledMapping, load_mapping
from syncd.objects import (
    ACTIVE,
    DELETED,
    DISABLED,
    GROUP,
    KEPT,
    OU,
    PENDING,
    USER,
    Capabilities,
    Entry,
    Owned,
    Wanted,
)
from syncd.org import Snapshot
from syncd.orgview import OrgView, records_of
from syncd.plan.diff import Diff, Frozen, diff
from syncd.plan.guards import Limits, check_guards, hold_back
from syncd.plan.model import Action, Change, Plan
from syncd.plan.order import ordered
from syncd.plan.resolve import Locations
from syncd.progress import HiddenProgress, ProgressFactory
from syncd.sampleorg import generate_org
from syncd.sources import read_source
from syncd.store import AuditEntry, IngestResult, Store
from syncd.store.accept import Rows, accept
from syncd.store.locks import RENEW_AFTER
from syncd.store.recorder import Recorder
from syncd.targets.base import Target
from syncd.targets.config_base import TargetConfigBase
from syncd.targets.registry import TARGET_TYPES, open_target

log = logging.getLogger("syncd.cycle")
audit_log = logging.getLogger("syncd.audit")  # one JSON line per applied change

TargetConfig = TargetConfigBase



@dataclass
class Ingested:
    result: IngestResult
    read: dict[str, dict[str, int]]  # source -> kind -> records it gave


def read_sources(config: Config) -> tuple[Snapshot, dict[str, dict[str, int]]]:
    """Every source read and merged, with what each gave per kind."""
    snapshot, read = Snapshot(), {}
    for source in config.sources:
        part = read_source(source)
        read[source.name] = {kind: len(records) for kind, records in part.records.items()}
        snapshot.merge(part, source.name)
    return snapshot, read


def ingest(config: Config, store: Store, force: bool = False) -> Ingested:
    """Read every source, merge, and have the store take the snapshot whole (or refuse
    it: the store keeps the last good one). Sources that read only files whose bytes
    are those the last accepted ingest read (and whose config is as then) are not read
    again: they would give the same."""
    fingerprint = _sources_fingerprint(config)
    if fingerprint and not force and store.sources_unchanged(fingerprint):
        log.info("ingest: the sources' files are as the last ingest read them: not read "
                 "again (no change)")
        return Ingested(IngestResult(None, {}), {})
    snapshot, read = read_sources(config)
    names = ", ".join(read)
    result = store.ingest(snapshot, names, config.safety.source_max_shrink, force)
    totals = ", ".join(f"{kind} {delta.total}" for kind, delta in result.deltas.items())
    log.info("ingest from %s: %s (store now holds %s)", names, result.summary(), totals)
    store.save_source_fingerprint(fingerprint)
    return Ingested(result, read)


def _sources_fingerprint(config: Config) -> str | None:
    """A digest of every source's config and the bytes of the files it reads; None
    where a source reads more than files (it is read every time) or a file is gone."""
    digest = hashlib.sha256(f"{__version__} {config.safety.model_dump_json()}".encode())
    for source in config.sources:
        files = source.files()
        if files is None:
            return None
        digest.update(source.model_dump_json().encode())
        for path in files:
            try:
                with path.open("rb") as data:
                    digest.update(hashlib.file_digest(data, "sha256").digest())
            except OSError:
                return None  # the read says what is wrong with it
    return digest.hexdigest()


def preview(config: Config, store: Store, day: date) -> OrgView:
    """The org as the next ingest would leave it, without writing the store (`plan`).
    A snapshot the store would refuse is refused here too."""
    snapshot, read = read_sources(config)
    result, org = store.preview(snapshot, config.safety.source_max_shrink, day)
    log.info("read %s: %s against the store (nothing written)", ", ".join(read),
             result.summary())
    return org


@dataclass(frozen=True)
class Loaded:
    """A config with every mapping it names compiled: what the daemon runs on, so that
    a mapping file edited on disk takes effect only through a checked reload."""

    config: Config
    mappings: dict[str, CompiledMapping]


def load_checked(path: Path) -> Loaded:
    """Load the config and compile every mapping; ConfigError lists every problem."""
    config = load_config(path)
    return Loaded(config, compile_mappings(config))


def compile_mappings(config: Config, online: bool = False) -> dict[str, CompiledMapping]:
    """Every target's mapping, compiled; ConfigError with the problems of every file.
    `online`: the targets may be asked what their attributes are (`syncd validate`)."""
    mappings, problems = {}, []
    for target in config.targets:
        try:
            mappings[target.name] = load_target_mapping(target, online)
        except ConfigError as exc:
            problems += exc.problems
    if problems:
        raise ConfigError(problems)
    return mappings


def load_target_mapping(config: TargetConfig, online: bool = False) -> CompiledMapping:
    """The target's mapping file, read as its type's mapping model, with every attribute
    it names one the target can hold (ConfigError)."""
    target_type = TARGET_TYPES[config.type]
    mapping = load_mapping(config.mapping, target_type.mapping_model)
    check = target_type.check_attributes(config, mapping.attribute_names(), online)
    problems = [Problem(mapping.file, line, path, f"{check.problems[(kind, name)]} "
                                                  f"(checked against {check.against})")
                for kind, name, path, line in mapping.attribute_paths
                if (kind, name) in check.problems]
    if problems:
        raise ConfigError(problems)
    return mapping


def select_targets(config: Config, name: str | None) -> list[TargetConfig]:
    if name is None:
        return list(config.targets)
    chosen = [t for t in config.targets if t.name == name]
    if not chosen:
        known = ", ".join(t.name for t in config.targets) or "none configured"
        raise SyncdError(f"--target {name}: no such target (configured: {known})")
    return chosen


@dataclass
class Planned:
    """A plan and what applying it needs; nothing has been changed yet."""

    plan: Plan
    target: Target
    diff: Diff
    registry: dict[tuple[str, str], Owned]
    wanted: dict[tuple[str, str], Wanted]
    limits: Limits

    def locations(self) -> Locations:
        """Where our objects are as the plan found them; kept as the apply goes."""
        caps = self.target.capabilities
        creating = [(c.kind, c.key) for c in self.plan.changes if c.action is Action.CREATE]
        return Locations(self.diff.located, caps.locator_key, creating,
                         must_exist=caps.references_must_exist)


def limits(config: Config, allow_deletes: int | None = None,
           allow_changes: int | None = None) -> Limits:
    safety = config.safety
    return Limits(safety.max_deletes, safety.max_delete_ratio, safety.max_attribute_changes,
                  safety.max_attribute_change_ratio, safety.hold_all_when_tripped,
                  allow_deletes, allow_changes)


def plan_target(config: Config, store: Store, org: OrgView, target_config: TargetConfig,
                allow_deletes: int | None = None,
                mapping: CompiledMapping | None = None,
                allow_changes: int | None = None) -> Planned:
    """Read the target and work out what to change. The caller closes `Planned.target`;
    when planning fails, it is closed here."""
    mapping = mapping or load_target_mapping(target_config)
    target = open_target(target_config)
    try:
        return _plan(config, store, org, target_config, target, mapping,
                     limits(config, allow_deletes, allow_changes))
    except BaseException:
        target.close()
        raise


def _plan(config: Config, store: Store, org: OrgView, target_config: TargetConfig,
          target: Target, mapping: CompiledMapping, guard_limits: Limits) -> Planned:
    caps = target.capabilities
    if problems := mapping.reference_problems(caps.references):
        raise ConfigError(problems)
    found = target.read(mapping.read_attributes())
    registry = store.accounts(target_config.name)
    desired = _desired(config, org, mapping, target_config, store, registry, found, caps)
    result = diff(desired.objects, found, registry, anchor=mapping.anchor,
                  username_attribute=mapping.username_attribute,
                  frozen=Frozen(desired.frozen, desired.frozen_groups),
                  capabilities=caps, markers=mapping.markers(target_config.name))
    plan = Plan(
        target=target_config.name,
        header=target_config.describe(),
        locator_name=target.locator_name,
        as_of=org.day.isoformat(),
        changes=ordered(result.changes, caps.depth, caps.references_must_exist),
        desired=_desired_counts(desired),
        managed=sum(result.managed.values()),
        memberships=result.memberships,
        managed_by_kind=result.managed,
        foreign=result.foreign,
        errors=[str(problem) for problem in desired.problems]
        + [message for _, message in result.problems],
        problems=desired.problems,
        notices=desired.notices + result.notices,
        errors_by_kind=Counter([*(_kind_of(p) for p in desired.problems),
                                *(kind for kind, _ in result.problems)]),
    )
    plan.guards = check_guards(plan, guard_limits)
    wanted = {(w.kind, w.key): w for w in desired.objects}
    return Planned(plan, target, result, registry, wanted, guard_limits)


def _desired(config: Config, org: OrgView, mapping: CompiledMapping,
             target_config: TargetConfig, store: Store,
             registry: dict[tuple[str, str], Owned], found: list[Entry],
             caps: Capabilities) -> Desired:
    known, known_groups = _known(registry)
    taken = store.taken_usernames(target_config.name) | _names_in(found, mapping)
    return desired_state(
        org, mapping, target=target_config.name, context=target_config.template_context(),
        variables=target_config.vars, known=known, taken=taken,
        lookup=_correlation_index(mapping, registry, found, caps.locator_key),
        known_groups=known_groups,
        elsewhere=_elsewhere(config, target_config.name, store.user_accounts()),
    )


def _elsewhere(config: Config, target: str, users: dict[str, list[Owned]]
               ) -> dict[str, list[Owned]]:
    """Each person's users in the config's other targets (the mapping's `it_users`),
    from every target's users loaded at once (`Store.user_accounts`)."""
    others = {t.name for t in config.targets} - {target}
    found = {pid: [a for a in owned if a.target in others] for pid, owned in users.items()}
    return {pid: owned for pid, owned in found.items() if owned}


def _names_in(found: list[Entry], mapping: CompiledMapping) -> set[str]:
    """Every username the target holds, and what `unique_against` attributes hold (the
    part before any @: a userPrincipalName's user): no new username may be one."""
    taken = {v.lower() for e in found for v in e.get(mapping.username_attribute)}
    for name in mapping.spec.users.username.unique_against:
        taken |= {v.partition("@")[0].lower() for e in found for v in e.get(name)}
    return taken


def _known(registry: dict[tuple[str, str], Owned]
           ) -> tuple[dict[str, Owned], dict[str, Owned]]:
    """Users with the usernames they were given, and groups with the names they were
    given: both are kept once given."""
    users = {key: a for (kind, key), a in registry.items() if kind == USER and a.username}
    groups = {key: a for (kind, key), a in registry.items() if kind == GROUP}
    return users, groups


def _correlation_index(mapping: CompiledMapping, registry: dict[tuple[str, str], Owned],
                       found: list[Entry], locator_key: Callable[[str], str]
                       ) -> Callable[[str, str], list[Entry]]:
    """Entries a correlation rule may adopt: not ours, by attribute value (no case)."""
    ours = {locator_key(a.locator) for a in registry.values() if a.locator}
    ids = {a.anchor for a in registry.values() if a.anchor}
    claimed = {key for kind, key in registry if kind == USER}
    index: dict[tuple[str, str], list[Entry]] = defaultdict(list)
    for attribute, _ in mapping.correlate:
        for entry in found:
            if (entry.protected or not entry.may_be(USER) or entry.anchor in ids
                    or locator_key(entry.locator) in ours
                    or set(entry.get(mapping.anchor)) & claimed):
                continue
            for value in entry.get(attribute):
                index[(attribute.lower(), value.lower())].append(entry)
    return lambda attribute, value: index.get((attribute.lower(), value.lower()), [])


def _kind_of(problem: Problem) -> str:
    """The kind of object a mapping problem is about, from where it is in the mapping."""
    return {"groups": GROUP, "ou_tree": OU, "containers": OU}.get(
        problem.path.split(".")[0].split("[")[0], USER)


def _desired_counts(desired: Desired) -> dict[str, int]:
    counts = {"user": 0, "group": 0}
    for w in desired.objects:
        if w.kind in counts and w.state == ACTIVE:
            counts[w.kind] += 1
    return counts


@dataclass
class Checked:
    """What `check` found, and what it rendered the mappings against."""

    problems: list[Problem]  # every one: the sources' first, then the templates'
    source_problems: int  # how many of them are the sources'
    rendered_against: str  # "the sources", "the store", "a generated sample org"
    notices: list[str] = field(default_factory=list)  # worth saying, nothing wrong

    @property
    def template_problems(self) -> list[Problem]:
        return self.problems[self.source_problems:]


def check(config: Config, store: Store | None, day: date) -> Checked:
    """What `syncd validate` and a SIGHUP reload run, contacting no target: compile every
    mapping (raising ConfigError with every problem of every file), read every source
    (a dry ingest: files, columns, encodings, dates, references; nothing is stored), and
    render each mapping against what the sources gave, else against the store, else
    against a generated sample org. Returns the source records and objects that fail."""
    mappings = compile_mappings(config, online=True)
    rows, problems = _dry_ingest(config)
    org, against = _org_to_render(rows, store, day)
    checked = Checked(problems, len(problems), against)
    users = store.user_accounts() if store else {}
    for target_config in config.targets:
        registry = store.accounts(target_config.name) if store else {}
        known, known_groups = _known(registry)
        desired = desired_state(
            org, mappings[target_config.name], target=target_config.name,
            context=target_config.template_context(), variables=target_config.vars,
            known=known, known_groups=known_groups,
            taken=store.taken_usernames(target_config.name) if store else set(),
            lookup=lambda attribute, value: [],
            elsewhere=_elsewhere(config, target_config.name, users),
        )
        checked.problems += desired.problems
        checked.notices += [f"target {target_config.name}: {n}" for n in desired.notices]
    return checked


def _dry_ingest(config: Config) -> tuple[Rows | None, list[Problem]]:
    """The accepted rows the sources give now, or the problems that stop them: every
    source is read, so one unreadable source does not hide another's problems."""
    snapshot, problems = Snapshot(), []
    for source in config.sources:
        where = source.where()
        try:
            snapshot.merge(read_source(source), source.name)
        except SnapshotRejected as exc:
            problems += [_as_problem(where, p) for p in exc.problems] or [
                _as_problem(where, exc.summary)]
        except SourceError as exc:
            problems.append(_as_problem(where, f"source {source.name}: {exc}"))
    if problems:
        return None, problems
    try:
        return accept(snapshot), []
    except SnapshotRejected as exc:
        return None, [_as_problem("sources", p) for p in [exc.summary, *exc.problems]]


def _as_problem(where: str, problem: object) -> Problem:
    return problem if isinstance(problem, Problem) else Problem(where, None, "", str(problem))


def _org_to_render(rows: Rows | None, store: Store | None, day: date) -> tuple[OrgView, str]:
    """What the sources gave, else the store's last snapshot, else a generated sample."""
    if rows is not None:
        return OrgView(records_of(rows), day), "the sources"
    if store is not None and store.last_ingest():
        return store.org(day), "the store"
    sample = accept(Snapshot(generate_org(units=40, persons=300)))
    return OrgView(records_of(sample), day), "a generated sample org"


# --- apply -------------------------------------------------------------------------------


@dataclass
class Outcome:
    plan: Plan
    applied: list[Change] = field(default_factory=list)
    rejected: list[tuple[str, str]] = field(default_factory=list)  # (kind, server's word)
    held: list[Change] = field(default_factory=list)
    stopped: int = 0  # changes left undone because the daemon is stopping
    follow_ups: int = 0  # of `applied`: references to what this cycle created, added after it
    unchanged: bool = False  # found as the last cycle with nothing to do left it: not planned
    settled: int = 0  # registry rows written for objects already as wanted

    @property
    def result(self) -> str:
        """guarded, partial (objects refused, not rendered or left for a stop: work left
        undone), success."""
        if self.plan.tripped:
            return "guarded"
        return "partial" if self.rejected or self.plan.errors or self.stopped else "success"

    def undone(self) -> str:
        """Why a partial cycle is partial, for logs, /status and /readyz."""
        parts = []
        if self.rejected:
            parts.append(f"{len(self.rejected)} refused by the server")
        if self.plan.errors:
            parts.append(f"{len(self.plan.errors)} failed to render")
        if self.stopped:
            parts.append(f"{self.stopped} left for the next cycle (stopping)")
        return ", ".join(parts)

    def managed(self) -> dict[str, int]:
        """Objects syncd owns per kind once this cycle's changes landed."""
        counts = dict(self.plan.managed_by_kind)
        for change in self.applied:
            if _registered(change) and change.action in (Action.CREATE, Action.DELETE):
                step = 1 if change.action is Action.CREATE else -1
                counts[change.kind] = counts.get(change.kind, 0) + step
        return counts


def run_cycle(config: Config, store: Store, org: Callable[[], OrgView],
              target_config: TargetConfig, day: date,
              allow_deletes: int | None = None, mapping: CompiledMapping | None = None,
              should_stop: Callable[[], bool] = lambda: False,
              on_stage: Callable[[str], None] = lambda stage: None,
              allow_changes: int | None = None, full: bool = False,
              progress: ProgressFactory = HiddenProgress) -> Outcome:
    """Plan and apply one target while holding its lease: never two at once, even from
    two processes. Ingest is the caller's (one ingest may serve several targets); `org`
    loads the org as of `day` when the cycle needs it.

    A cycle that finds what the target's last full cycle found when it had nothing to
    do (the store's data, the target's marker, the day and the config all as then, and
    the last full reconcile younger than `full_reconcile`) stops there: nothing can
    have changed that it would act on. `full` (and any `--allow-*`) always plans.
    `on_stage` hears "plan" and "apply", so a failure can say where it happened;
    `progress` shows how far the apply has got."""
    with store.target_lease(target_config.name):
        on_stage("plan")
        target = open_target(target_config)
        with closing(target):
            mapping = mapping or load_target_mapping(target_config)
            seen = _seen(config, store, target_config, target, mapping, day)
            forced = full or allow_deletes is not None or allow_changes is not None
            if not forced and (unchanged := _unchanged(config, store, target_config, seen)):
                return unchanged
            view = org()
            planned = _plan(config, store, view, target_config, target, mapping,
                            limits(config, allow_deletes, allow_changes))
            for notice in planned.plan.notices:  # the daemon has no plan printout for them
                log.info("%s: %s", target_config.name, notice)
            on_stage("apply")
            store.renew_lease(target_config.name)  # planning a big target takes a while
            if seen and planned.plan.changes:  # a cycle killed now is followed by a full one
                store.save_marks(target_config.name, None)
            outcome = apply_plan(planned, store, day, should_stop, progress)
            idle = (outcome.result == "success" and not outcome.applied and not outcome.held
                    and not outcome.settled and seen is not None
                    and seen["data"]["ingest"] == view.ingest)  # planned on what it saw
            store.save_marks(target_config.name, {
                **seen, "at": time.time(), "managed": outcome.managed(),
                "plan": {"desired": planned.plan.desired, "foreign": planned.plan.foreign},
            } if seen and idle else None)
            return outcome


def _seen(config: Config, store: Store, target_config: TargetConfig, target: Target,
          mapping: CompiledMapping, day: date) -> dict[str, Any] | None:
    """What decides whether a cycle can have anything to do; None where the target
    keeps no marker (every cycle is then a full one)."""
    marker = target.marker()
    if marker is None:
        return None
    return {"marker": marker, "day": day.isoformat(),
            "data": store.data_version(target_config.name),
            "config": _config_digest(config, target_config, mapping), "syncd": __version__}


def _config_digest(config: Config, target_config: TargetConfig,
                   mapping: CompiledMapping) -> str:
    """The target's config, the mapping as it was compiled (not the file now: a daemon
    runs on what it loaded), the safety limits and the other targets (whose accounts a
    mapping reads), as one digest."""
    digest = hashlib.sha256(target_config.model_dump_json().encode())
    digest.update(config.safety.model_dump_json().encode())
    digest.update(mapping.digest.encode())
    digest.update(" ".join(sorted(t.name for t in config.targets)).encode())
    return digest.hexdigest()


def _unchanged(config: Config, store: Store, target_config: TargetConfig,
               seen: dict[str, Any] | None) -> Outcome | None:
    """The outcome of a cycle with nothing to do, when it is one; else None."""
    marks = store.marks(target_config.name)
    if seen is None or marks is None or any(marks.get(k) != v for k, v in seen.items()):
        return None
    schedule = target_config.schedule or config.schedule
    if time.time() - float(marks["at"]) >= schedule.full_reconcile_seconds:
        return None
    managed = {str(k): int(v) for k, v in marks["managed"].items()}
    plan = Plan(target=target_config.name, header=target_config.describe(),
                as_of=str(seen["day"]), managed=sum(managed.values()), managed_by_kind=managed,
                desired=marks["plan"]["desired"], foreign=marks["plan"]["foreign"])
    log.info("%s: unchanged since %s (the store's data, the target's marker, the day and "
             "the config as then): nothing to do; a full reconcile within %s",
             target_config.name, datetime.fromtimestamp(float(marks["at"]), UTC).isoformat(
                 timespec="seconds"), schedule.full_reconcile)
    return Outcome(plan, unchanged=True)


def apply_plan(planned: Planned, store: Store, day: date,
               should_stop: Callable[[], bool] = lambda: False,
               progress: ProgressFactory = HiddenProgress) -> Outcome:
    """Carry out a plan change by change; a refused object is recorded and skipped.

    Guarded plans apply only what is not destructive. New objects are reserved in the
    registry before they are created, so their names survive a crash. TargetUnavailable
    ends the cycle: what landed so far is recorded, the next cycle plans the rest.
    """
    plan = planned.plan
    outcome = Outcome(plan)
    changes = plan.changes
    if plan.tripped:
        changes, outcome.held = hold_back(plan, planned.limits)
        for guard in plan.tripped:
            log.warning("%s: guard %s tripped (%g > %g%s): %s held back (%d change(s) in "
                        "all); `syncd apply --%s N` accepts them once", plan.target,
                        guard.name, guard.value, guard.limit,
                        f"; {guard.detail}" if guard.detail else "",
                        "every change is" if planned.limits.hold_all else "what it guards is",
                        len(outcome.held), "allow-changes" if guard.name ==
                        "attribute_changes" else "allow-deletes")
    store.save_accounts([_account(planned, c, day, pending=True) for c in changes
                         if c.action is Action.CREATE and _registered(c)
                         and not _held_already(planned, c)])
    locations = planned.locations()
    lease = _LeaseRenewal(store, plan.target)
    with (store.recorder() as recorder,
          progress(plan.target, Counter(c.kind for c in changes)) as shown):
        for done, planned_change in enumerate(changes):
            if should_stop():
                outcome.stopped = len(changes) - done
                log.info("%s: stopping: %d change(s) left for the next cycle", plan.target,
                         outcome.stopped)
                break
            _apply_resolved(planned, recorder, day, outcome, locations, planned_change,
                            lease)
            shown.advance(planned_change.kind)
        planned_changes = len(outcome.applied)
        follow_ups = [] if outcome.stopped else locations.later()
        shown.add(Counter(f.kind for f in follow_ups))
        for done, follow_up in enumerate(follow_ups):
            if should_stop():  # the rest waits for the next cycle's plan
                outcome.stopped = len(follow_ups) - done
                break
            _apply_resolved(planned, recorder, day, outcome, locations, follow_up, lease)
            shown.advance(follow_up.kind)
    outcome.follow_ups = len(outcome.applied) - planned_changes
    settled = _settled(planned, day)
    store.save_accounts(settled)
    outcome.settled = len(settled)
    return outcome


class _LeaseRenewal:
    """Renews the target's lease as a long apply goes (Busy if it was lost: better stop
    than collide with another process)."""

    def __init__(self, store: Store, target: str):
        self.store, self.target, self.renewed = store, target, time.monotonic()

    def check(self) -> None:
        if time.monotonic() - self.renewed > RENEW_AFTER.total_seconds():
            self.store.renew_lease(self.target)
            self.renewed = time.monotonic()


def _apply_resolved(planned: Planned, recorder: Recorder, day: date, outcome: Outcome,
                    locations: Locations, planned_change: Change, lease: _LeaseRenewal
                    ) -> None:
    """One change with its references resolved to where their objects are now."""
    change = locations.concrete(planned_change)
    if change is None:
        log.info("%s: %s waits for its members' entries", planned.plan.target,
                 planned_change.label)
        return
    lease.check()
    if _nothing_left(change):
        locations.landed(change, None)  # nothing to write now; its follow-up may have
        return
    anchor, refusal = _apply_one(planned, recorder, change, day, outcome)
    if refusal is None or (change.new_locator and not isinstance(refusal, MoveRefused)):
        locations.landed(change, anchor)  # a move lands even if its modify is refused
    else:
        locations.refused(change)


def _nothing_left(change: Change) -> bool:
    """An update whose every value was about objects that are not there after all."""
    return change.action is Action.UPDATE and not change.attributes and not change.new_locator


def _apply_one(planned: Planned, recorder: Recorder, change: Change, day: date,
               outcome: Outcome) -> tuple[str | None, ObjectRejected | None]:
    """Apply and record one change: the target's id for what it created, and its
    refusal (None when the change landed)."""
    try:
        anchor = planned.target.apply(change)
    except ObjectRejected as exc:
        log.error("%s: %s %s %s refused: %s", planned.plan.target, change.action.word,
                  change.kind, change.label, exc)
        recorder.record(_audit(planned, change, "error", str(exc)))
        outcome.rejected.append((change.kind, str(exc)))
        _keep_refused_ou(planned, recorder, change)
        return None, exc
    entry = _audit(planned, change, "ok", anchor=anchor)
    named = {planned.target.locator_name: entry.locator}  # "dn": ... for LDAP, as always
    audit_log.info("%s", json.dumps({"at": datetime.now(UTC).isoformat(), **entry.__dict__,
                                     **named}, ensure_ascii=False))
    account, forget = None, None
    if change.action is Action.DELETE:
        forget = (change.kind, change.key)
    elif _registered(change):
        account = _account(planned, change, day, anchor=anchor)
    recorder.record(entry, account, forget)
    if account is not None:  # a follow-up of this object builds on what just landed
        planned.registry[(account.kind, account.key)] = account
    outcome.applied.append(change)
    return anchor, None


def _keep_refused_ou(planned: Planned, recorder: Recorder, change: Change) -> None:
    """An OU the server will not delete (AD: not a leaf, it holds entries syncd cannot
    read; or protected from deletion) is left in place for good, not tried again every
    cycle: its registry row says `kept`, and it is never an orphan again."""
    old = planned.registry.get((change.kind, change.key))
    if change.kind != OU or change.action is not Action.DELETE or old is None:
        return
    recorder.keep(replace(old, state=KEPT))
    log.warning("%s: %s stays: the server would not delete it; syncd leaves it in place "
                "and does not try again (delete it by hand once it is empty)",
                planned.plan.target, change.label)


def _held_already(planned: Planned, change: Change) -> bool:
    """A create of an object the registry holds a live row for (the target's read did
    not show it): the row keeps its name, and where the object was, as they are."""
    old = planned.registry.get((change.kind, change.key))
    return old is not None and old.state not in (DELETED, PENDING)


def _registered(change: Change) -> bool:
    """Containers are infrastructure: created when missing, never owned, never deleted."""
    return change.rule != "containers"


def _account(planned: Planned, change: Change, day: date, *, pending: bool = False,
             anchor: str | None = None) -> Owned:
    old = planned.registry.get((change.kind, change.key))
    wanted = planned.wanted.get((change.kind, change.key))
    state = PENDING if pending else (wanted.state if wanted else ACTIVE)
    anchor = anchor or (old.anchor if old else None)
    locator = change.new_locator or change.locator or (None if pending else anchor)
    return Owned(
        target=planned.plan.target, kind=change.kind, key=change.key, locator=locator,
        username=change.username or (old.username if old else None), anchor=anchor,
        state=state,
        disabled_on=_disabled_on(old, state, day),
    )


def _disabled_on(old: Owned | None, state: str, day: date) -> date | None:
    """The day an account was first disabled (kept through later updates)."""
    if state != DISABLED:
        return None
    return old.disabled_on if old and old.disabled_on else day


def _settled(planned: Planned, day: date) -> list[Owned]:
    """Registry rows for objects already as wanted: adopted entries, anchors not yet
    recorded, and work a killed cycle finished in the target but not in the registry."""
    rows = []
    key = planned.target.capabilities.locator_key
    for wanted, entry in planned.diff.in_sync:
        old = planned.registry.get((wanted.kind, wanted.key))
        state = DISABLED if wanted.state == DISABLED else ACTIVE
        if (old and old.state == state and old.locator
                and key(old.locator) == key(entry.locator)
                and (old.anchor or not entry.anchor)
                and (not wanted.username or old.username == wanted.username)):
            continue
        rows.append(Owned(planned.plan.target, wanted.kind, wanted.key, entry.locator,
                          wanted.username or (old.username if old else None),
                          entry.anchor or (old.anchor if old else None), state,
                          _disabled_on(old, state, day)))
    return rows


def _audit(planned: Planned, change: Change, result: str, message: str = "",
           anchor: str | None = None) -> AuditEntry:
    return AuditEntry(
        target=planned.plan.target, kind=change.kind, key=change.key,
        locator=change.new_locator or change.locator or anchor, action=change.action.word,
        attributes=[a.as_dict() for a in change.attributes], why=change.why,
        rule=change.rule, source=change.source, result=result, message=message,
    )
