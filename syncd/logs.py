"""Logging to stderr, plain or one JSON object per line (config `logging.format`).

Fields passed with `extra={"fields": {...}}` (the per-cycle summary uses them) become
keys of the JSON object, and `key=value` pairs after the message in plain format, so a
log pipeline can count changes without parsing sentences.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime

PLAIN = "%(asctime)s %(levelname)s %(name)s: %(message)s"

# A last line of defence: whatever a library or a message puts in a line, a secret in a
# URL (user:password@, ?token=...) is masked before the line is written.
_URL_PASSWORD = re.compile(r"(?i)(\b[a-z][a-z0-9+.-]*://[^/\s@:]*:)[^/\s@]+@")
_QUERY_SECRET = re.compile(
    r"(?i)([?&;](?:access_|api_|client_|auth_)?(?:token|secret|password|passwd|pwd|key"
    r"|apikey)=)[^&\s#\"']+")
MASK = "***"


def redact(text: str) -> str:
    """`text` with passwords in URLs and secret query parameters masked."""
    text = _URL_PASSWORD.sub(lambda m: f"{m.group(1)}{MASK}@", text)
    return _QUERY_SECRET.sub(lambda m: f"{m.group(1)}{MASK}", text)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": redact(record.getMessage()),
            **getattr(record, "fields", {}),
        }
        if record.exc_info:
            data["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(data, ensure_ascii=False, default=str)


class PlainFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__(PLAIN)

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        fields = getattr(record, "fields", None)
        if fields:
            text += " " + " ".join(f"{key}={value}" for key, value in fields.items())
        return redact(text)


def configure(level: str = "info", fmt: str = "plain") -> None:
    """Replace the root logger's handlers with one stderr handler in the chosen format."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else PlainFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        if getattr(old, "_syncd", False):
            root.removeHandler(old)
    handler._syncd = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level.upper())
    # Libraries that log a line per request (httpx names every URL it fetches) or per
    # job run: warnings only, so a page of an HR API is not a log line.
    for chatty in ("apscheduler", "httpx", "httpcore", "httpx2", "httpcore2"):
        logging.getLogger(chatty).setLevel(max(root.level, logging.WARNING))
