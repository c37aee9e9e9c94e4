"""`syncd run`: scheduled cycles per target, reload on SIGHUP, clean stop on SIGTERM.

Each target is its own APScheduler job, so a slow or failing target never holds up the
others; a per-target lock means two cycles of one target never overlap, even when
`POST /sync` asks for one while the scheduled one runs. The main thread only waits for
signals, pings the systemd watchdog and reloads: the work happens in the jobs.
"""

from __future__ import annotations

import functools
import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from syncd import logs, metrics
from syncd.config import Config, Schedule, seconds
from syncd.config.web import restart_keys
from syncd.cycle import (
    Loaded,
    Outcome,
    TargetConfig,
    check,
    ingest,
    load_checked,
    plan_target,
    run_cycle,
)
from syncd.daemon.cron import CrontabTrigger
from syncd.daemon.http import StatusServer
from syncd.daemon.notify import Notifier
from syncd.daemon.progress import Progress
from syncd.errors import (
    BindRefused,
    ConfigError,
    CycleStopped,
    GuardTripped,
    SnapshotRejected,
    SyncdError,
)
from syncd.progress import ApplyProgress
from syncd.retry import backoff
from syncd.store import Busy, OrgView, open_store

log = logging.getLogger("syncd.daemon")

RETRY_FIRST = 30.0  # seconds before a failed target is tried again; doubles per failure
RETRY_MOST = 3600.0  # and never waits longer than this (the next scheduled run may be sooner)
STALL_AFTER = 1200.0  # seconds without progress before a cycle counts as stuck: longer
# than the 900 s a cycle's templates may take to render, which beats no progress
STOP_GRACE = 25.0  # seconds a stop waits for running cycles before abandoning them
HELD_KEPT = 200  # held changes a target's state keeps for the web view (a mass removal
# holds thousands; the count says how many more)
SNAPSHOT_REUSE = 60.0  # seconds one ingest (or its failure) serves every target's cycle,
# at most half the shortest interval, so that a cycle never misses a change it is due


@dataclass
class Ingested:
    """One ingest and the org it gave, shared by the targets whose cycles come together."""

    at: float  # time.monotonic()
    day: date
    org: OrgView | None = None
    error: Exception | None = None


@dataclass
class TargetState:
    """What /status and /readyz say about one target."""

    last_run: datetime | None = None
    result: str | None = None  # success | partial | failure | guarded
    stage: str | None = None  # where a failed cycle failed: ingest, plan, apply
    error: str | None = None
    duration: float | None = None
    counts: dict[str, int] = field(default_factory=dict)
    failures: int = 0  # in a row
    skipped: str | None = None  # when and why the last cycle was skipped (target busy)
    # what the web view's /targets shows of the last cycle's plan: the guards that tripped
    # (as the plan's JSON has them), and the changes they held back (the first HELD_KEPT,
    # as the plan's JSON has them; `held_total` in all)
    holds: list[dict[str, Any]] = field(default_factory=list)
    held: list[dict[str, Any]] = field(default_factory=list)
    held_total: int = 0
    preview: Preview | None = None  # the last plan asked for from the web view


@dataclass
class Preview:
    """What the next cycle would change, planned on request (as `syncd plan` does: the
    target is read, nothing is changed) from the store's last ingest, for one day."""

    day: date
    asked: datetime
    done: datetime | None = None  # None: still planning
    summary: dict[str, int] = field(default_factory=dict)
    changes: list[dict[str, Any]] = field(default_factory=list)  # the first HELD_KEPT
    total: int = 0
    holds: list[dict[str, Any]] = field(default_factory=list)  # guards the plan would trip
    errors: int = 0  # objects that would not render
    error: str | None = None  # why there is no plan


class Daemon:
    def __init__(self, config_path: Path, loaded: Loaded):
        self.config_path = config_path
        self.loaded = loaded
        config = loaded.config
        self.store = open_store(config.store.resolved_url())
        self.states: dict[str, TargetState] = {t.name: TargetState() for t in config.targets}
        self.locks: dict[str, threading.Lock] = {}
        self.stopping = threading.Event()
        self.reload_wanted = threading.Event()
        self.reload_error: str | None = None
        self.reloader: threading.Thread | None = None
        self.loaded_at = datetime.now(UTC)
        self.notifier = Notifier()
        self.progress = Progress(STALL_AFTER)
        self.ingest_lock = threading.Lock()
        self.ingested: Ingested | None = None
        self.stall_reported = False
        self.scheduler = BackgroundScheduler(
            timezone=UTC,
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        )
        self.http = StatusServer(self)
        metrics.CONFIG_RELOAD_OK.set(1)
        metrics.CONFIG_RELOAD_TIME.set(time.time())

    # --- lifecycle -----------------------------------------------------------------

    def run(self) -> int:
        """Serve until SIGTERM/SIGINT; 0 after a clean stop."""
        signal.signal(signal.SIGTERM, lambda *_: self.stopping.set())
        signal.signal(signal.SIGINT, lambda *_: self.stopping.set())
        signal.signal(signal.SIGHUP, lambda *_: self.reload_wanted.set())
        self.http.start()
        self.scheduler.start()
        self._schedule_all()
        self.notifier.ready()
        self.notifier.status(f"running {len(self.config.targets)} target(s)")
        log.info("syncd started: %d target(s), listening on %s", len(self.config.targets),
                 self.http.address)
        tick = min(1.0, self.notifier.watchdog_interval() or 1.0)
        while not self.stopping.wait(tick):
            self._watchdog()
            if self.reload_wanted.is_set() and not self._reloading():
                self.reload_wanted.clear()  # a SIGHUP during a reload waits for it
                # checking renders every mapping against the org: the watchdog must not
                # starve while a large one renders, so the check has its own thread
                self.reloader = threading.Thread(target=self.reload, name="reload")
                self.reloader.start()
        return self._stop()

    def _watchdog(self) -> None:
        """Ping systemd's watchdog only while cycles make progress: a stuck one gets the
        daemon restarted (after WatchdogSec) instead of a daemon that syncs nothing."""
        stalls = self.progress.stalls()
        if not stalls:
            self.stall_reported = False
            self.notifier.watchdog()
            return
        if not self.stall_reported:
            self.stall_reported = True
            log.error("%s; no longer pinging the systemd watchdog, so systemd restarts "
                      "syncd (the next start finishes the cycle's work)",
                      "; ".join(map(str, stalls)))

    def _reloading(self) -> bool:
        return self.reloader is not None and self.reloader.is_alive()

    def _stop(self) -> int:
        log.info("stopping: letting running cycles finish the object in hand")
        self.notifier.stopping()
        self.scheduler.shutdown(wait=False)
        if not self.progress.wait_idle(STOP_GRACE):
            stuck = "; ".join(str(s) for s in self.progress.stalls(after=0))
            log.error("stopping: %s; abandoned after %gs (the next start finishes its "
                      "work)", stuck, STOP_GRACE)
            try:
                self.store.release_my_leases()  # a thread that never returns never lets go
            except Exception as exc:  # the store may be why it is stuck: exit all the same
                log.warning("stopping: could not let go of the leases (they run out by "
                            "themselves): %s", exc)
            self.http.stop()
            logging.shutdown()
            os._exit(1)  # a thread stuck in a call cannot be interrupted; exit anyway
        if self.reloader is not None:
            self.reloader.join(STOP_GRACE)
        self.http.stop()
        self.store.close()
        log.info("stopped cleanly")
        return 0

    def reload(self) -> None:
        """Check the new config as `syncd validate` does first (every mapping compiled and
        rendered); only a valid one replaces the running one (from each target's next
        cycle). A source that cannot be read now is logged, not a reason to refuse: its
        cycles fail at ingest whatever the config says."""
        self.notifier.reloading()
        try:
            loaded = load_checked(self.config_path)
            checked = check(loaded.config, self.store, date.today())
            for problem in checked.problems[:checked.source_problems]:
                log.warning("reload: %s", problem)
            if checked.template_problems:
                raise ConfigError(checked.template_problems)
        except Exception as exc:  # ConfigError, or a bug: either way the old config stays
            self.reload_error = str(exc)
            metrics.CONFIG_RELOAD_OK.set(0)
            log.error("reload refused, the running config stays:\n%s", exc)
            self.notifier.ready()
            return
        config, old = loaded.config, self.config
        changed = [key for key in ("store", "http") if getattr(config, key) != getattr(old, key)]
        for key in changed + restart_keys(old.web, config.web):
            log.warning("reload: %s changed; that takes a restart (systemctl restart "
                        "syncd), the running daemon keeps the old one", key)
        logs.configure(config.logging.level, config.logging.format)
        self.loaded, self.reload_error = loaded, None
        self.ingested = None  # the sources may have changed
        self.loaded_at = datetime.now(UTC)
        metrics.CONFIG_RELOAD_OK.set(1)
        metrics.CONFIG_RELOAD_TIME.set(time.time())
        names = {t.name for t in config.targets}
        for gone in set(self.states) - names:
            metrics.forget_target(gone)
        # a new dict, swapped in whole: HTTP and job threads may be reading the old one
        self.states = {n: self.states.get(n, TargetState()) for n in sorted(names)}
        self._schedule_all()
        log.info("reloaded %s: %d target(s)", self.config_path, len(config.targets))
        self.notifier.ready()

    # --- scheduling ----------------------------------------------------------------

    def _schedule_all(self) -> None:
        """One job per target; a new target's first cycle runs at once, a reload only
        changes the schedule of the ones already there."""
        wanted = {t.name for t in self.config.targets}
        for job in self.scheduler.get_jobs():
            if job.id.split(":")[0] not in wanted:
                job.remove()
        for target in self.config.targets:
            metrics.declare_target(target.name)
            trigger = _trigger(target.schedule or self.config.schedule)
            job = self.scheduler.get_job(target.name)
            if job is not None:
                job.reschedule(trigger)
            else:
                self.scheduler.add_job(self.run_target, trigger, args=[target.name],
                                       id=target.name, name=f"cycle {target.name}",
                                       next_run_time=datetime.now(UTC))

    def sync_now(self, names: list[str]) -> list[str]:
        """POST /sync: run these targets' cycles now (after any one that is running)."""
        known = [name for name in names if name in self.states]
        for name in known:
            self.scheduler.add_job(self.run_target, DateTrigger(datetime.now(UTC)),
                                   args=[name], id=f"{name}:now", replace_existing=True)
        return known

    def preview_soon(self, name: str, day: date) -> bool:
        """Plan `name` for `day` in the background (the web view's "what would the next
        cycle change"); False for a target that is not configured."""
        state = self.states.get(name)
        if state is None:
            return False
        if state.preview is None or state.preview.done is not None:
            state.preview = Preview(day, datetime.now(UTC))
            self.scheduler.add_job(self._preview, DateTrigger(datetime.now(UTC)),
                                   args=[name, state.preview], id=f"{name}:preview",
                                   replace_existing=True)
        return True

    def _preview(self, name: str, preview: Preview) -> None:
        loaded = self.loaded
        target = next((t for t in loaded.config.targets if t.name == name), None)
        try:
            if target is None:
                raise SyncdError("the target is no longer configured")
            planned = plan_target(loaded.config, self.store, self.store.org(preview.day),
                                  target, mapping=loaded.mappings[name])
            planned.target.close()
        except Exception as exc:  # said on the page and logged; the daemon goes on
            log.warning("preview %s: %s", name, exc)
            preview.error = str(exc) if isinstance(exc, SyncdError) else \
                f"unexpected error: {type(exc).__name__}; see the log"
        else:
            plan = planned.plan
            preview.summary = plan.summary()
            preview.changes = [change.as_dict() for change in plan.changes[:HELD_KEPT]]
            preview.total = len(plan.changes)
            preview.holds = [guard.as_dict() for guard in plan.tripped]
            preview.errors = len(plan.errors)
        preview.done = datetime.now(UTC)

    def next_run(self, name: str) -> datetime | None:
        runs = [job.next_run_time for job in self.scheduler.get_jobs()
                if job.id.split(":")[0] == name and job.next_run_time
                and not job.id.endswith(":preview")]
        return min(runs) if runs else None

    # --- one cycle -----------------------------------------------------------------

    def run_target(self, name: str) -> None:
        lock = self.locks.setdefault(name, threading.Lock())
        with lock:
            if self.stopping.is_set():
                return
            loaded = self.loaded  # a reload takes effect from the next cycle
            target = next((t for t in loaded.config.targets if t.name == name), None)
            if target is None:
                return
            try:
                self._cycle(loaded, target)
            finally:
                self.progress.finish(name)

    @property
    def config(self) -> Config:
        return self.loaded.config

    def _cycle(self, loaded: Loaded, target: TargetConfig) -> None:
        config = loaded.config
        state = self.states.get(target.name) or TargetState()
        started = time.monotonic()
        stage = ["ingest"]

        def on_stage(name: str) -> None:
            if self.stopping.is_set():  # between stages: stop rather than start the next
                raise CycleStopped(f"the daemon is stopping; {name} left for the next start")
            stage.append(name)
            self.progress.stage(target.name, name)

        def should_stop() -> bool:  # asked before each change: a sign of progress
            self.progress.beat(target.name)
            return self.stopping.is_set()

        self.progress.start(target.name)
        try:
            day, org = self._org(config)
            outcome = run_cycle(config, self.store, org, target, day,
                                mapping=loaded.mappings[target.name],
                                should_stop=should_stop, on_stage=on_stage,
                                progress=partial(ApplyProgress, is_tty=False))
        except CycleStopped as exc:
            log.info("cycle %s: %s", target.name, exc)
            return
        except Busy as exc:
            if exc.name != f"target {target.name}":
                self._failed(target, state, stage[-1], exc, time.monotonic() - started)
                return
            self._skipped(target, state, exc)  # an apply by hand, say
            return
        except SyncdError as exc:
            self._failed(target, state, stage[-1], exc, time.monotonic() - started)
            return
        except Exception as exc:  # a bug or the store failing: record it, keep the daemon
            log.exception("cycle %s: unexpected error at %s; please report it", target.name,
                          stage[-1])
            self._failed(target, state, stage[-1], exc, time.monotonic() - started)
            return
        self._succeeded(target, state, outcome, time.monotonic() - started)

    def _org(self, config: Config) -> tuple[date, Callable[[], OrgView]]:
        """Today, and the org as of today from an ingest at most SNAPSHOT_REUSE seconds
        old: targets whose cycles come together share one read of the sources and one
        org view (and one failure: a source that just failed is not read again for each
        target). The org is loaded only by a cycle that plans."""
        with self.ingest_lock:
            last, today = self.ingested, date.today()
            if last is None or last.day != today or \
                    time.monotonic() - last.at >= _reuse_window(config):
                last = self.ingested = Ingested(time.monotonic(), today)
                try:
                    self._ingest(config)
                except Exception as exc:
                    last.error = exc
            if last.error is not None:
                raise last.error
        return last.day, functools.partial(self._loaded, last)

    def _loaded(self, ingested: Ingested) -> OrgView:
        with self.ingest_lock:
            if ingested.org is None:
                ingested.org = self.store.org(ingested.day)
            return ingested.org

    def _ingest(self, config: Config) -> None:
        try:
            ingested = ingest(config, self.store)  # the store serialises ingests
        except (SnapshotRejected, GuardTripped) as exc:
            reason = "invalid" if isinstance(exc, SnapshotRejected) else "shrink"
            metrics.SOURCE_REFUSED.labels(reason=reason).inc()
            raise
        for source, counts in ingested.read.items():
            for kind, count in counts.items():
                metrics.SOURCE_RECORDS.labels(source=source, kind=kind).set(count)

    def _succeeded(self, target: TargetConfig, state: TargetState, outcome: Outcome,
                   duration: float) -> None:
        plan = outcome.plan
        result = outcome.result
        for change in outcome.applied:
            metrics.CHANGES.labels(target.name, change.kind, change.action.word).inc()
        for kind, _ in outcome.rejected:
            metrics.OBJECT_ERRORS.labels(target.name, kind).inc()
        for kind, count in plan.errors_by_kind.items():
            metrics.OBJECT_ERRORS.labels(target.name, kind).inc(count)
        for guard in plan.tripped:
            metrics.GUARD_TRIPS.labels(target.name, guard.name).inc()
        for kind, count in outcome.managed().items():
            metrics.MANAGED_OBJECTS.labels(target.name, kind).set(count)
        if not outcome.stopped:  # a cycle cut short by a stop is neither success nor failure
            metrics.CYCLES.labels(target.name, result).inc()
            metrics.CYCLE_DURATION.labels(target.name).observe(duration)
        if result == "success" and not outcome.stopped:
            metrics.LAST_SUCCESS.labels(target.name).set(time.time())
        counts = {**plan.summary(), "applied": len(outcome.applied),
                  "refused": len(outcome.rejected), "held": len(outcome.held),
                  "render_errors": len(plan.errors), "left_for_next_cycle": outcome.stopped}
        undone = outcome.undone() if result == "partial" else None
        self._record(state, result, "apply" if undone else None, undone, duration, counts)
        state.failures = 0
        state.holds = [guard.as_dict() for guard in plan.tripped]
        state.held = [change.as_dict() for change in outcome.held[:HELD_KEPT]]
        state.held_total = len(outcome.held)
        log.log(logging.WARNING if undone else logging.INFO, "cycle %s: %s in %.1fs%s",
                target.name, result, duration, f": {undone}, tried again next cycle"
                if undone else "",
                 extra={"fields": {"target": target.name, "result": result,
                                   "duration_seconds": round(duration, 3), **counts}})

    def _failed(self, target: TargetConfig, state: TargetState, stage: str, exc: Exception,
                duration: float) -> None:
        metrics.CYCLES.labels(target.name, "failure").inc()
        metrics.CYCLE_DURATION.labels(target.name).observe(duration)
        self._record(state, "failure", stage, str(exc), duration, {})
        state.holds, state.held, state.held_total = [], [], 0  # of a cycle before this one
        state.failures += 1
        retry_at = self._retry_at(target.name, state.failures, exc)
        when = f"retrying at {retry_at:%H:%M:%S}" if retry_at else "next try at the next run"
        log.error("cycle %s: failure at %s after %.1fs: %s; %s", target.name, stage, duration,
                  exc, when, extra={"fields": {"target": target.name, "result": "failure",
                                               "stage": stage,
                                               "duration_seconds": round(duration, 3)}})

    def _skipped(self, target: TargetConfig, state: TargetState, exc: Busy) -> None:
        """Another process applies to this target now: say so in /status and try again
        soon, keeping the last cycle's result (nothing was done, nothing failed)."""
        state.skipped = f"{datetime.now(UTC).isoformat()}: {exc}"
        retry_at = self._retry_at(target.name, 1, exc)
        when = f"retrying at {retry_at:%H:%M:%S}" if retry_at else "next try at the next run"
        log.warning("cycle %s skipped: %s; %s", target.name, exc, when)

    def _retry_at(self, name: str, failures: int, exc: Exception) -> datetime | None:
        """An early retry after 30 s, 60 s, ... when it comes before the next scheduled run;
        never after a refused bind (retrying wrong credentials locks service accounts)."""
        if self.stopping.is_set() or isinstance(exc, BindRefused):
            return None
        wait = backoff(failures, first=RETRY_FIRST, most=RETRY_MOST)
        retry_at = datetime.now(UTC) + timedelta(seconds=wait)
        job = self.scheduler.get_job(name)
        if job is None or (job.next_run_time and job.next_run_time <= retry_at):
            return None
        self.scheduler.add_job(self.run_target, DateTrigger(retry_at), args=[name],
                               id=f"{name}:retry", replace_existing=True)
        return retry_at

    def _record(self, state: TargetState, result: str, stage: str | None, error: str | None,
                duration: float, counts: dict[str, int]) -> None:
        state.last_run = datetime.now(UTC)
        state.result, state.stage, state.error = result, stage, error
        state.skipped = None
        state.duration, state.counts = duration, counts
        states = list(self.states.items())
        summary = ", ".join(f"{name} {s.result or 'pending'}" for name, s in states)
        self.notifier.status(summary)

    # --- what /status and /readyz answer --------------------------------------------

    def status(self) -> dict[str, Any]:
        return {
            "config": {"file": str(self.config_path), "loaded_at": self.loaded_at.isoformat(),
                       "reload_error": self.reload_error},
            "targets": {name: _state_json(state, self.next_run(name))
                        for name, state in self.states.items()},
        }

    def ready(self) -> tuple[bool, str]:
        stalls = self.progress.stalls()
        if stalls:
            return False, "; ".join(map(str, stalls))
        waiting = [n for n, s in self.states.items() if s.result is None]
        failing = [f"{n} {s.result}" + (f" ({s.error})" if s.error else "")
                   for n, s in self.states.items() if s.result not in (None, "success")]
        if failing:
            return False, "last cycle not successful: " + "; ".join(failing)
        if waiting:
            return False, "no cycle finished yet: " + ", ".join(waiting)
        return True, "ready"


def _reuse_window(config: Config) -> float:
    intervals = [(t.schedule or config.schedule).interval_seconds for t in config.targets]
    return min([SNAPSHOT_REUSE, *(seconds / 2 for seconds in intervals)])


def _trigger(schedule: Schedule) -> CrontabTrigger | IntervalTrigger:
    jitter = seconds(schedule.jitter) or None
    if schedule.cron:
        return CrontabTrigger(schedule.cron.strip(), timezone=UTC, jitter=jitter)
    return IntervalTrigger(seconds=schedule.interval_seconds, jitter=jitter, timezone=UTC)


def _state_json(state: TargetState, next_run: datetime | None) -> dict[str, Any]:
    return {
        "last_run": state.last_run.isoformat() if state.last_run else None,
        "result": state.result,
        "stage": state.stage,
        "error": state.error,
        "duration_seconds": round(state.duration, 3) if state.duration is not None else None,
        "counts": state.counts,
        "skipped": state.skipped,
        "next_run": next_run.isoformat() if next_run else None,
    }
