"""Map one foreign record (a CSV row, a JSON object) onto a kind of CONTRACT section 2.

One module for the CSV and the HTTP source, so that both read names, dates, yes/no
values and lists the same way. A value that does not convert is passed on as it came:
the store's check reports it with the record's kind and id, together with every other
problem in the snapshot, rather than the source stopping at the first bad row.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from syncd.config import CsvSource, FieldMapping, HttpSource
from syncd.errors import SourceError
from syncd.org import FieldSpec, FieldType, field_specs

MISSING: Any = object()  # the export has no such column or key (unlike an empty value)
FALSE_VALUES = frozenset({"0", "false", "no", "nej", "n", ""})


def lookup(obj: Any, key: str) -> Any:
    """`obj[key]`, else the dotted path "a.b" into nested objects, else MISSING."""
    if not isinstance(obj, Mapping):
        return MISSING
    if key in obj:
        return obj[key]
    node: Any = obj
    for part in key.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return MISSING
        node = node[part]
    return node


@dataclass(frozen=True)
class FieldMap:
    """How one kind's records are read from one source."""

    kind: str
    mapping: FieldMapping
    date_format: str
    true_values: frozenset[str]
    list_separator: str | None  # None: lists must come as lists (JSON)

    @classmethod
    def of(cls, kind: str, mapping: FieldMapping, source: CsvSource | HttpSource) -> FieldMap:
        return cls(
            kind=kind,
            mapping=mapping,
            date_format=mapping.date_format or source.date_format,
            true_values=frozenset(value.casefold() for value in source.true_values),
            list_separator=source.list_separator if isinstance(source, CsvSource) else None,
        )

    def check_header(self, header: Sequence[str], where: str) -> None:
        """Fail once for a file that lacks a column the mapping needs, not once per row."""
        missing = [f"{column!r} ({use})" for column, use in self._needed_columns().items()
                   if column not in header]
        if missing:
            raise SourceError(f"{where}: {self.kind}: no column {', '.join(missing)}; "
                              f"the file has: {', '.join(header)}")

    def record(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        """The store's record for `raw`; fields the export lacks (and no default) are left out."""
        out = {}
        for spec in field_specs(self.kind):
            if spec.name == "extra" and self.mapping.extra:
                out["extra"] = self._extra(raw)
                continue
            value = self._value(spec, raw)
            if value is not MISSING:
                out[spec.name] = value
        return out

    def _needed_columns(self) -> dict[str, str]:
        """Column -> what it is for: mapped columns, and required fields with no default."""
        needed = {column: field for field, column in self.mapping.fields.items()}
        needed |= {column: f"extra.{name}" for name, column in self.mapping.extra.items()}
        for spec in field_specs(self.kind):
            if spec.required and spec.name not in self.mapping.defaults:
                needed.setdefault(self.mapping.fields.get(spec.name, spec.name), spec.name)
        return needed

    def _value(self, spec: FieldSpec, raw: Mapping[str, Any]) -> Any:
        value = lookup(raw, self.mapping.fields.get(spec.name, spec.name))
        if value is MISSING or _blank(value):
            if spec.name in self.mapping.defaults:
                value = self.mapping.defaults[spec.name]
            elif value is MISSING:
                return MISSING
        return self._convert(spec.type, value)

    def _extra(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        values = {name: lookup(raw, column) for name, column in self.mapping.extra.items()}
        return {name: _text(value) for name, value in values.items() if value is not MISSING}

    def _convert(self, type: FieldType, value: Any) -> Any:
        if type is FieldType.DATE:
            return _date(value, self.date_format)
        if type is FieldType.BOOL:
            return _bool(value, self.true_values)
        if type is FieldType.TEXT_LIST:
            return _text_list(value, self.list_separator)
        if type is FieldType.TEXT:
            return _text(value)
        return value


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _text(value: Any) -> Any:
    """Strip, and compose "a" + ring into "å": decomposed names break usernames and sorting.
    A JSON API's whole numbers (ids, often) become text: JSON has no octal to misread."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str):
        return value
    return unicodedata.normalize("NFC", value.strip()) or None


def _date(value: Any, date_format: str) -> Any:
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    value = _text(value)
    if not isinstance(value, str):
        return value
    try:
        return datetime.strptime(value, date_format).date().isoformat()
    except ValueError:
        return value


def _bool(value: Any, true_values: frozenset[str]) -> Any:
    if value is None or isinstance(value, bool):
        return bool(value)
    word = str(value).strip().casefold()
    if word in true_values:
        return True
    if word in FALSE_VALUES:
        return False
    return _text(value)


def _text_list(value: Any, separator: str | None) -> Any:
    if isinstance(value, list):
        return value
    value = _text(value)
    if not isinstance(value, str) or separator is None:
        return value
    return [text for part in value.split(separator) if (text := _text(part))]


__all__ = ["MISSING", "FieldMap", "lookup"]
