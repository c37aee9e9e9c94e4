"""How far a long apply has got: a live bar on a terminal, a log line every few seconds
elsewhere (the daemon, cron, a pipe).

`apply_plan` calls `advance` once per change, so it only counts and reads the clock; the
text is made when the clock says it is time. Small or quick applies show nothing, and
nothing is ever written to stdout (it carries the plan and `--json`). rich draws the bar
and is imported only when one is drawn.
"""

from __future__ import annotations

import io
import logging
import math
import sys
import time
from collections import Counter
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from rich.console import Console, RenderableType
    from rich.live import Live

log = logging.getLogger("syncd.progress")


class ApplyProgress:
    """Counts the changes of one target's apply, per kind, against what the plan has.

    The thresholds are class attributes so a test can lower them."""

    MIN_CHANGES = 200  # fewer changes: nothing shown, whatever the time
    QUIET_FOR = 2.0  # seconds before anything is shown
    LOG_EVERY = 5.0  # seconds between log lines off a terminal
    REDRAW_EVERY = 0.2  # seconds between redraws of the bar

    def __init__(self, target: str, total_by_kind: Mapping[str, int],
                 stream: TextIO | None = None, is_tty: bool | None = None,
                 clock: Callable[[], float] = time.monotonic):
        self.target, self.clock = target, clock
        self.stream = stream or sys.stderr
        self.is_tty = self.stream.isatty() if is_tty is None else is_tty
        self.totals: Counter[str] = Counter(total_by_kind)
        self.done: Counter[str] = Counter()
        self.started = clock()
        self.every = self.REDRAW_EVERY if self.is_tty else self.LOG_EVERY
        shown = self.totals.total() >= self.MIN_CHANGES
        self.next_at = self.started + max(self.QUIET_FOR, self.every) if shown else math.inf
        self._live: Live | None = None
        self._handlers: list[tuple[logging.StreamHandler[TextIO], TextIO]] = []  # redirected

    def add(self, total_by_kind: Mapping[str, int]) -> None:
        """More changes to come (the follow-ups, known once the planned ones are done)."""
        self.totals.update(total_by_kind)

    def advance(self, kind: str) -> None:
        """One change of `kind` done (applied, refused or skipped)."""
        self.done[kind] += 1
        now = self.clock()
        if now >= self.next_at:
            self.next_at = now + self.every
            self._show(now)

    def close(self) -> None:
        """The bar stays with the final counts; the log handlers write as before."""
        if self._live is not None:
            self._live.update(self._bar(self.clock()), refresh=True)
            self._live.stop()
            for handler, stream in self._handlers:
                handler.setStream(stream)

    def __enter__(self) -> ApplyProgress:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()

    def _show(self, now: float) -> None:
        if not self.is_tty:
            log.info("%s: %s; %s", self.target, self._overall(now), self._kinds())
            return
        if self._live is None:
            self._live = self._start_live()
        self._live.update(self._bar(now), refresh=True)

    def _overall(self, now: float) -> str:
        """'12,345/20,000 changes (61 %), 244/s, about 31 s left' ('..., in 82 s' once done)."""
        done, total = self.done.total(), self.totals.total()
        text = f"{done:,}/{total:,} changes ({100 * done // max(total, 1)} %)"
        elapsed = now - self.started
        if done and elapsed > 0:
            rate = done / elapsed
            text += f", {rate:,.0f}/s" if rate >= 10 else f", {rate:.1f}/s"
            text += (f", in {_duration(elapsed)}" if done >= total else
                     f", about {_duration((total - done) / rate)} left")
        return text

    def _kinds(self) -> str:
        """'user 12,000/19,000, group 345/1,000'."""
        return ", ".join(f"{kind} {self.done[kind]:,}/{total:,}"
                         for kind, total in self.totals.items())

    def _start_live(self) -> Live:
        """The bar on `stream`; syncd's log lines to it go above the bar meanwhile."""
        from rich.console import Console
        from rich.live import Live

        console = Console(file=self.stream, force_terminal=True)
        live = Live(console=console, auto_refresh=False, redirect_stdout=False,
                    redirect_stderr=False)
        live.start()
        self._redirect_logs(console)
        return live

    def _redirect_logs(self, console: Console) -> None:
        for handler in logging.getLogger().handlers:
            if isinstance(handler, logging.StreamHandler) and handler.stream is self.stream:
                self._handlers.append((handler, handler.stream))
                handler.setStream(_AboveTheBar(console))

    def _bar(self, now: float) -> RenderableType:
        from rich.console import Group
        from rich.progress_bar import ProgressBar
        from rich.table import Table
        from rich.text import Text

        row = Table.grid(padding=(0, 1))
        row.add_row(Text(self.target), ProgressBar(self.totals.total(), self.done.total(),
                                                   width=20), Text(self._overall(now)))
        return Group(row, Text(f"  {self._kinds()}"))


class _AboveTheBar(io.TextIOBase):
    """A log handler's stream while the bar is drawn: each line goes above the bar, whole
    (not folded at the terminal's width)."""

    def __init__(self, console: Console):
        self.console = console

    def write(self, text: str) -> int:
        from rich.text import Text

        self.console.print(Text(text), end="", soft_wrap=True)
        return len(text)


class HiddenProgress(ApplyProgress):
    """Shows nothing: `apply_plan`'s default (tests, benchmarks, callers of the library)."""

    QUIET_FOR = math.inf


ProgressFactory = Callable[[str, Mapping[str, int]], ApplyProgress]  # target, totals per kind


def _duration(seconds: float) -> str:
    """'31 s', '4 min', '1 h 10 min': a rough figure, as the estimate is."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    minutes = round(seconds / 60)
    return f"{minutes} min" if minutes < 60 else f"{minutes // 60} h {minutes % 60} min"
