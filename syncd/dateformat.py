"""strptime date formats as sysadmins know them: `%d-%m-%Y` is what HR calls dd-mm-yyyy.

Shared by the config (which refuses a format that cannot match a date, with the strftime
form as a hint) and the sources (whose date errors quote the format in both forms).
"""

from __future__ import annotations

import re
from datetime import datetime

_READABLE = {"%d": "dd", "%m": "mm", "%Y": "yyyy", "%y": "yy", "%b": "mon", "%B": "month",
             "%j": "ddd", "%H": "HH", "%M": "MM", "%S": "SS"}
_PATTERN_PARTS = {"yyyy": "%Y", "yy": "%y", "mm": "%m", "dd": "%d", "m": "%m", "d": "%d"}
_PATTERN_PART = re.compile("|".join(_PATTERN_PARTS), re.IGNORECASE)
_PROBE = datetime(2024, 11, 28)  # every field distinct, day > 12: a swapped format shows


def readable(date_format: str) -> str:
    """`%d-%m-%Y` -> `dd-mm-yyyy`."""
    return re.sub(r"%[a-zA-Z]", lambda m: _READABLE.get(m.group(0), m.group(0)), date_format)


def check_date_format(date_format: str) -> str:
    """`date_format`, or ValueError when no date can be read with it (no % directives,
    or no year, month or day)."""
    if "%" not in date_format:
        strftime = _PATTERN_PART.sub(lambda m: _PATTERN_PARTS[m.group(0).lower()], date_format)
        hint = f"; did you mean {strftime!r}?" if strftime != date_format else ""
        raise ValueError(f"{date_format!r} has no strptime directives (like %d, %m, %Y), so "
                         f"no date matches it{hint}")
    try:
        back = datetime.strptime(_PROBE.strftime(date_format), date_format)
    except ValueError:
        back = None
    if back is None or back.date() != _PROBE.date():
        raise ValueError(f"{date_format!r} does not hold a whole date: it needs a year, a "
                         "month and a day, like '%d-%m-%Y'")
    return date_format


__all__ = ["check_date_format", "readable"]
