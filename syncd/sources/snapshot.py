"""The native source: one JSON or YAML file in the shape of CONTRACT section 2."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from syncd.errors import SourceError
from syncd.org import Snapshot

_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_snapshot_file(path: Path) -> Snapshot:
    data = _parse(path)
    if not isinstance(data, dict):
        raise SourceError(f"{path}: a snapshot is a mapping of kinds (units, persons, ...), "
                          f"got {type(data).__name__}")
    records = {}
    for kind, items in data.items():
        if items is None:
            items = []
        if not isinstance(items, list):
            raise SourceError(f"{path}: {kind}: want a list of records, got {type(items).__name__}")
        records[str(kind)] = items
    return Snapshot(records=records, origin={kind: str(path) for kind in records})


def _parse(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SourceError(f"{path}: no such file") from None
    except UnicodeDecodeError as exc:
        raise SourceError(f"{path}: not UTF-8 (byte {exc.start}): {exc.reason}") from None
    except OSError as exc:
        raise SourceError(f"{path}: cannot read: {exc.strerror}") from None
    if path.suffix.lower() == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            message = f"{path}:{exc.lineno}: JSON: {exc.msg} (column {exc.colno})"
            raise SourceError(message) from None
    try:
        return yaml.load(text, Loader=_YAML_LOADER)
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else "?"
        raise SourceError(f"{path}:{line}: YAML: {exc.problem}") from None
