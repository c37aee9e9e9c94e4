"""Every syncd_* metric, defined once (README: Operations, Metrics).

A registry of our own, so that tests and the daemon see exactly syncd's metrics and
nothing a library registered globally. `cycle` and `daemon` record; `plan` and `mapping`
never import this module.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info
from prometheus_client.exposition import generate_latest

from syncd import __version__

REGISTRY = CollectorRegistry(auto_describe=True)

BUILD_INFO = Info("syncd_build", "Version of the running syncd.", registry=REGISTRY)
BUILD_INFO.info({"version": __version__})

CYCLES = Counter(
    "syncd_cycles_total", "Sync cycles run, by result (success, partial, failure, guarded).",
    ["target", "result"], registry=REGISTRY,
)
CYCLE_DURATION = Histogram(
    "syncd_cycle_duration_seconds", "Wall time of a whole cycle (ingest, plan, apply).",
    ["target"], registry=REGISTRY,
    buckets=(0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600),
)
LAST_SUCCESS = Gauge(
    "syncd_last_success_timestamp_seconds", "Unix time the last successful cycle ended.",
    ["target"], registry=REGISTRY,
)
CHANGES = Counter(
    "syncd_changes_total", "Changes applied to a target.",
    ["target", "kind", "action"], registry=REGISTRY,
)
OBJECT_ERRORS = Counter(
    "syncd_object_errors_total",
    "Objects the target refused, or the mapping could not render or place, by object "
    "kind (user, group, ou); each is retried next cycle.",
    ["target", "kind"], registry=REGISTRY,
)
MANAGED_OBJECTS = Gauge(
    "syncd_managed_objects", "Objects syncd owns in a target, as of the last cycle.",
    ["target", "kind"], registry=REGISTRY,
)
SOURCE_RECORDS = Gauge(
    "syncd_source_records", "Records in the store per kind, as of the last good ingest.",
    ["source", "kind"], registry=REGISTRY,
)
SOURCE_REFUSED = Counter(
    "syncd_source_refused_total",
    "Snapshots refused (invalid records, or shrinking past source_max_shrink).",
    ["reason"], registry=REGISTRY,
)
GUARD_TRIPS = Counter(
    "syncd_guard_trips_total", "Cycles whose destructive changes a safety guard held back.",
    ["target", "guard"], registry=REGISTRY,
)
CONFIG_RELOAD_OK = Gauge(
    "syncd_config_last_reload_successful",
    "1 when the last config load or reload was valid, 0 when it was refused.",
    registry=REGISTRY,
)
CONFIG_RELOAD_TIME = Gauge(
    "syncd_config_last_reload_success_timestamp_seconds",
    "Unix time of the last successful config load or reload.", registry=REGISTRY,
)


def declare_target(target: str) -> None:
    """Create a target's counters at 0, so that `increase()` in an alert sees the very
    first failure or guard trip (a labelled series otherwise appears only with it)."""
    for result in ("success", "partial", "failure", "guarded"):
        CYCLES.labels(target, result)
    for guard in ("deletes", "delete_ratio", "member_removals", "attribute_changes"):
        GUARD_TRIPS.labels(target, guard)
    for kind in ("user", "group", "ou"):
        OBJECT_ERRORS.labels(target, kind)


def forget_target(target: str) -> None:
    """Drop a target's series (removed by a reload), so no alert fires for it forever."""
    for metric in (CYCLES, CYCLE_DURATION, LAST_SUCCESS, CHANGES, OBJECT_ERRORS,
                   MANAGED_OBJECTS, GUARD_TRIPS):
        for labels in list(metric._metrics):  # prometheus_client has no public listing
            if labels[0] == target:
                metric.remove(*labels)


for _reason in ("invalid", "shrink"):
    SOURCE_REFUSED.labels(reason=_reason)


def exposition() -> bytes:
    """The text format `GET /metrics` serves."""
    return generate_latest(REGISTRY)
