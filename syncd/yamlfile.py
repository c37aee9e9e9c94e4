"""YAML that remembers where each key stood, so every error can start with FILE:LINE.

PyYAML's composer keeps the marks we need; we walk the node tree once to build a map
from a data path (``("targets", 1, "password_file")``) to its 1-based line, then let the
safe constructor build the plain data. Duplicate keys, which PyYAML silently collapses,
are reported as problems.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from syncd.errors import ConfigError, Problem
from syncd.yamlsafe import YamlRefused, compose_bounded

DataPath = tuple[str | int, ...]


@dataclass
class YamlDoc:
    """Parsed YAML data together with the line of every key and list item."""

    file: str
    data: Any
    lines: dict[DataPath, int] = field(default_factory=dict)
    text: str = ""
    text_lines: dict[DataPath, int] = field(default_factory=dict)  # where scalars' text starts

    def line_of(self, path: Sequence[str | int]) -> int | None:
        """The line of `path`, or of its nearest ancestor that has one."""
        path = tuple(path)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get((), 1)

    def text_line(self, path: Sequence[str | int]) -> int | None:
        """The line a scalar's text starts on: for a block scalar (`|`, `>`) the line
        after the indicator, so a template's own line numbers add up to the file's."""
        return self.text_lines.get(tuple(path)) or self.line_of(path)

    def problem(self, path: Sequence[str | int], message: str) -> Problem:
        return Problem(self.file, self.line_of(path), format_path(path), message)


def format_path(path: Sequence[str | int]) -> str:
    """``("targets", 1, "url")`` -> ``targets[1].url``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def load_yaml(path: Path, display_name: str | None = None) -> YamlDoc:
    """Read and parse `path`; any read or syntax error becomes a ConfigError with a line."""
    name = display_name or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([Problem(name, None, "", "no such file")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([Problem(name, None, "", f"cannot read: {exc}")]) from None
    return parse_yaml(text, name)


def parse_yaml(text: str, name: str) -> YamlDoc:
    """Parse `text`, with aliases capped (`compose_bounded`): nine lines of aliases to
    aliases would otherwise cost minutes and gigabytes in the walk below."""
    try:
        node = compose_bounded(text)
    except YamlRefused as exc:
        raise ConfigError([Problem(name, exc.line, "", f"YAML: {exc.message}")]) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise ConfigError([Problem(name, line, "", f"YAML syntax: {exc.problem}")]) from None
    doc = YamlDoc(name, None, text=text)
    if node is None:
        return doc
    problems: list[Problem] = []
    _walk(node, (), doc, problems)
    if problems:
        raise ConfigError(problems)
    try:
        doc.data = yaml.SafeLoader(text).construct_document(node)
    except yaml.constructor.ConstructorError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else None
        raise ConfigError([Problem(name, line, "", f"YAML: {exc.problem}")]) from None
    return doc


def _walk(node: yaml.Node, path: DataPath, doc: YamlDoc, problems: list[Problem]) -> None:
    doc.lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            child = (*path, key)
            if key in seen:
                problems.append(
                    Problem(doc.file, key_node.start_mark.line + 1, format_path(child),
                            "duplicate key (the earlier value would be silently lost)")
                )
            seen.add(key)
            doc.lines[child] = key_node.start_mark.line + 1
            _walk(value_node, child, doc, problems)
    elif isinstance(node, yaml.ScalarNode):
        block = node.style in ("|", ">")
        doc.text_lines[path] = node.start_mark.line + (2 if block else 1)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, (*path, index), doc, problems)
