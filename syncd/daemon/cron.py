"""A crontab(5) line as an APScheduler trigger, with croniter reading the line.

APScheduler's own CronTrigger numbers weekdays from Monday and ANDs a restricted
day-of-month with a restricted day-of-week; crontab(5) numbers from Sunday (0 or 7) and
runs when either matches (`0 6 1 * 1`: every 1st and every Monday). croniter reads lines
as crontab does, @daily and friends included.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo

from apscheduler.triggers.base import BaseTrigger
from croniter import croniter


class CrontabTrigger(BaseTrigger):
    """Fires on the times a crontab line names, evaluated in `timezone`."""

    __slots__ = ("jitter", "line", "timezone")

    def __init__(self, line: str, timezone: tzinfo = UTC, jitter: int | None = None):
        self.line = line
        self.timezone = timezone
        self.jitter = jitter

    def get_next_fire_time(self, previous_fire_time: datetime | None,
                           now: datetime) -> datetime | None:
        """The first matching time after the previous fire (or from `now` on, `now`
        included, as APScheduler's triggers do)."""
        start = previous_fire_time or now - timedelta(microseconds=1)
        following = croniter(self.line, start.astimezone(self.timezone)).get_next(datetime)
        return self._apply_jitter(following, self.jitter, now)

    def __str__(self) -> str:
        return f"cron[{self.line}]"
