"""Which cycles are running, in which stage, and when each last moved on.

The daemon's main loop pings the systemd watchdog only while no cycle is stalled, so a
cycle stuck for good (a hung server call, a runaway template) gets the daemon restarted
instead of a process that looks alive and syncs nothing; and a stop knows what it is
waiting for. A cycle moves on when it enters a stage and each time it applies a change.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass


@dataclass
class Running:
    stage: str
    beat: float  # time.monotonic() of the last sign of progress


@dataclass(frozen=True)
class Stall:
    target: str
    stage: str
    seconds: float

    def __str__(self) -> str:
        return f"cycle {self.target} has made no progress in {self.stage} for {self.seconds:.0f}s"


class Progress:
    def __init__(self, stall_after: float):
        self.stall_after = stall_after
        self._running: dict[str, Running] = {}
        self._changed = threading.Condition()

    def start(self, target: str) -> None:
        self.stage(target, "ingest")

    def stage(self, target: str, stage: str) -> None:
        with self._changed:
            self._running[target] = Running(stage, time.monotonic())

    def beat(self, target: str) -> None:
        with self._changed:
            if target in self._running:
                self._running[target].beat = time.monotonic()

    def finish(self, target: str) -> None:
        with self._changed:
            self._running.pop(target, None)
            self._changed.notify_all()

    def stalls(self, after: float | None = None) -> list[Stall]:
        """Cycles with no progress for `after` seconds (default: stall_after)."""
        limit = self.stall_after if after is None else after
        now = time.monotonic()
        with self._changed:
            return [Stall(name, run.stage, now - run.beat) for name, run in
                    sorted(self._running.items()) if now - run.beat > limit]

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no cycle runs; False when some still do after `timeout` seconds."""
        with self._changed:
            return self._changed.wait_for(lambda: not self._running, timeout)
