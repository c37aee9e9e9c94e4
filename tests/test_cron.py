"""Cron lines mean what crontab(5) says: weekdays from Sunday, day-of-month OR weekday."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

import pytest

from syncd.config import Schedule, check_crontab
from syncd.daemon.cron import CrontabTrigger
from syncd.daemon.service import _trigger

TUESDAY = datetime(2026, 12, 1, 10, 7, tzinfo=UTC)  # Tuesday 1 December 2026
FRIDAY = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)


def fire_times(line: str, now: datetime, count: int) -> list[str]:
    trigger = _trigger(Schedule(cron=line))
    times, previous = [], None
    for _ in range(count):
        previous = trigger.get_next_fire_time(previous, now)
        times.append(previous.strftime("%a %Y-%m-%d %H:%M"))
    return times


@pytest.mark.parametrize(("line", "now", "expected"), [
    # day-of-month and weekday both restricted: either one matches
    ("0 6 1 * 1", TUESDAY, ["Mon 2026-12-07 06:00", "Mon 2026-12-14 06:00",
                            "Mon 2026-12-21 06:00", "Mon 2026-12-28 06:00",
                            "Fri 2027-01-01 06:00", "Mon 2027-01-04 06:00"]),
    ("0 6 13 * 5", TUESDAY, ["Fri 2026-12-04 06:00", "Fri 2026-12-11 06:00",
                             "Sun 2026-12-13 06:00"]),
    # only one of them restricted: that one alone decides
    ("0 6 1 * *", TUESDAY, ["Fri 2027-01-01 06:00", "Mon 2027-02-01 06:00"]),
    ("0 6 * * 1", TUESDAY, ["Mon 2026-12-07 06:00", "Mon 2026-12-14 06:00"]),
    # Sunday is 0 and 7; ranges and steps count from Sunday
    ("0 2 * * 0", TUESDAY, ["Sun 2026-12-06 02:00"]),
    ("0 2 * * 7", TUESDAY, ["Sun 2026-12-06 02:00"]),
    ("0 2 * * sun", TUESDAY, ["Sun 2026-12-06 02:00"]),
    ("30 6 * * 1-5", FRIDAY, ["Mon 2026-12-07 06:30", "Tue 2026-12-08 06:30"]),
    ("0 3 * * 0-6", FRIDAY, ["Sat 2026-12-05 03:00", "Sun 2026-12-06 03:00"]),
    ("0 3 * * */2", FRIDAY, ["Sat 2026-12-05 03:00", "Sun 2026-12-06 03:00",
                             "Tue 2026-12-08 03:00"]),
    ("0 3 * * 5-7", TUESDAY, ["Fri 2026-12-04 03:00", "Sat 2026-12-05 03:00",
                              "Sun 2026-12-06 03:00", "Fri 2026-12-11 03:00"]),
    ("*/15 * * * *", TUESDAY, ["Tue 2026-12-01 10:15", "Tue 2026-12-01 10:30"]),
    # the aliases
    ("@hourly", TUESDAY, ["Tue 2026-12-01 11:00", "Tue 2026-12-01 12:00"]),
    ("@daily", TUESDAY, ["Wed 2026-12-02 00:00", "Thu 2026-12-03 00:00"]),
    ("@midnight", TUESDAY, ["Wed 2026-12-02 00:00"]),
    ("@weekly", TUESDAY, ["Sun 2026-12-06 00:00", "Sun 2026-12-13 00:00"]),
    ("@monthly", TUESDAY, ["Fri 2027-01-01 00:00", "Mon 2027-02-01 00:00"]),
    ("@yearly", TUESDAY, ["Fri 2027-01-01 00:00", "Sat 2028-01-01 00:00"]),
    ("@annually", TUESDAY, ["Fri 2027-01-01 00:00"]),
])
def test_next_fire_times(line, now, expected):
    assert fire_times(line, now, len(expected)) == expected


def test_a_time_that_matches_now_fires_now():
    now = datetime(2026, 12, 1, 10, 15, tzinfo=UTC)
    assert _trigger(Schedule(cron="*/15 * * * *")).get_next_fire_time(None, now) == now


def test_the_line_is_read_in_the_trigger_timezone():
    copenhagen = timezone(timedelta(hours=1))
    fire = CrontabTrigger("0 6 * * *", timezone=copenhagen).get_next_fire_time(None, TUESDAY)
    assert fire == datetime(2026, 12, 2, 5, 0, tzinfo=UTC)


def test_jitter_delays_within_the_limit():
    trigger = _trigger(Schedule(cron="0 * * * *", jitter="30s"))
    fire = trigger.get_next_fire_time(None, TUESDAY)
    assert trigger.jitter == 30
    assert datetime(2026, 12, 1, 11, 0, tzinfo=UTC) <= fire <= datetime(
        2026, 12, 1, 11, 0, 30, tzinfo=UTC)


@pytest.mark.parametrize(("line", "message"), [
    ("*/15 * * *", "want 5 fields (minute hour day month weekday), got 4"),
    ("0 0 * * * *", "want 5 fields (minute hour day month weekday), got 6"),
    ("61 * * * *", "out of range"),
    ("0 0 * * 8", "out of range"),
    ("0 0 31 2 *", "failed to find next date"),
    ("@fortnightly", "'@fortnightly' is not one of @yearly, @annually, @monthly"),
])
def test_bad_lines_are_refused_with_the_reason(line, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        check_crontab(line)
