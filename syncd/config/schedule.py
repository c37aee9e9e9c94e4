"""When cycles run: durations like `15m` and crontab(5) lines, checked on load."""

from __future__ import annotations

import re

from croniter import CroniterError, croniter
from pydantic import Field, field_validator

from syncd.config.base import Model

DURATION = re.compile(r"^(\d+)(s|m|h|d)$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
CRON_ALIASES = ("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight",
                "@hourly")


def check_crontab(line: str) -> None:
    """Raise ValueError unless `line` is a crontab(5) schedule: five fields or an alias."""
    fields = line.split()
    if line.startswith("@"):
        if line.strip() not in CRON_ALIASES:
            raise ValueError(f"{line.strip()!r} is not one of {', '.join(CRON_ALIASES)}")
        return
    if len(fields) != 5:
        raise ValueError(f"want 5 fields (minute hour day month weekday), got {len(fields)}")
    try:
        croniter(line).get_next()  # also a date that never comes, like 0 0 31 2 *
    except (CroniterError, ValueError) as exc:
        raise ValueError(str(exc).replace(f"[{line}] ", "")) from None


def seconds(duration: str) -> int:
    """``15m`` -> 900 (the format is checked on load)."""
    match = DURATION.match(duration)
    assert match
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2)]


class Schedule(Model):
    """When a target's cycles run: every `interval`, or on a crontab line (`cron` wins)."""

    interval: str = "15m"
    cron: str | None = Field(None, description="a crontab(5) line in UTC, like `0 6 * * 1-5`, "
                                               "or @hourly, @daily, @weekly, @monthly, @yearly")
    jitter: str = Field("0s", description="a random delay up to this, so sites spread out")
    full_reconcile: str = Field(
        "6h", description="at least this often a cycle reads and plans everything, even "
        "when nothing it watches says anything changed (drift a target's marker misses)")

    @field_validator("interval", "jitter", "full_reconcile")
    @classmethod
    def _duration(cls, value: str) -> str:
        if not DURATION.match(value):
            raise ValueError(f"must be a number and a unit (s, m, h, d), like 15m; got {value!r}")
        return value

    @field_validator("cron")
    @classmethod
    def _crontab(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                check_crontab(value)
            except ValueError as exc:
                raise ValueError(f"not a crontab line ({exc}): {value!r}") from None
        return value

    @property
    def interval_seconds(self) -> int:
        return seconds(self.interval)

    @property
    def full_reconcile_seconds(self) -> int:
        return seconds(self.full_reconcile)
