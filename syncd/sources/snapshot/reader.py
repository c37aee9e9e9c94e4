"""Reading the native source: one JSON or YAML file in the shape of docs/snapshot.md."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from syncd.errors import SourceError
from syncd.org import Snapshot
from syncd.sources.snapshot.config import SnapshotSource
from syncd.yamlsafe import YamlRefused, refuse_aliases

_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_snapshot_source(source: SnapshotSource) -> Snapshot:
    return read_snapshot_file(source.path)


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
        text = path.read_text(encoding="utf-8-sig")  # a BOM, as Windows tools write
    except FileNotFoundError:
        raise SourceError(f"{path}: no such file") from None
    except UnicodeDecodeError as exc:
        raise SourceError(f"{path}: not UTF-8 (byte {exc.start}): {exc.reason}") from None
    except OSError as exc:
        raise SourceError(f"{path}: cannot read: {exc.strerror}") from None
    if path.suffix.lower() == ".json":
        return _parse_json(path, text)
    return _parse_yaml(path, text)


def _parse_json(path: Path, text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        message = f"{path}:{exc.lineno}: JSON: {exc.msg} (column {exc.colno})"
        raise SourceError(message) from None
    except RecursionError:  # json.loads recurses once per level of [ or {
        raise SourceError(f"{path}: JSON: nested too deeply to read") from None


def _parse_yaml(path: Path, text: str) -> Any:
    try:
        refuse_aliases(text, _YAML_LOADER)
        return yaml.load(text, Loader=_YAML_LOADER)
    except YamlRefused as exc:
        raise SourceError(f"{path}:{exc.line}: YAML: {exc.message}") from None
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else "?"
        raise SourceError(f"{path}:{line}: YAML: {exc.problem}") from None
    except RecursionError:
        raise SourceError(f"{path}: YAML: nested too deeply to read") from None
