"""Map one foreign record (a CSV row, a JSON object) onto a kind of docs/snapshot.md.

One module for the CSV and the HTTP source, so that both read names, dates, yes/no
values and lists the same way. A value that does not convert is passed on as
`Unreadable`, with the problem in the words of the source's config (the date_format, the
true_values, the value map): the store's check reports it with the record's kind, id and
line, together with every other problem in the snapshot, rather than the source stopping
at the first bad row.
"""

from __future__ import annotations

import difflib
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Literal, Protocol

from pydantic import Field, field_validator

from syncd.config.base import Model
from syncd.dateformat import check_date_format, readable
from syncd.errors import SourceError
from syncd.org import KINDS, FieldSpec, FieldType, Unreadable, field_names, field_specs

if TYPE_CHECKING:  # a Literal built at run time is no type to mypy; pydantic checks the names
    KindName = str
else:
    KindName = Literal[tuple(KINDS)]



class FieldMapping(Model):
    """How one kind's records are read from a foreign export (CSV columns, JSON keys)."""

    fields: dict[str, str] = Field(
        default_factory=dict, description="record field -> column or key in the export"
    )
    defaults: dict[str, Any] = Field(
        default_factory=dict, description="record field -> constant when the export lacks it"
    )
    extra: dict[str, str] = Field(
        default_factory=dict, description="name under `extra` -> column or key in the export"
    )
    date_format: str | None = Field(None, description="strptime format, e.g. %d-%m-%Y")
    values: dict[str, dict[str, str]] = Field(
        default_factory=dict, description="record field -> {export's word: record value}, "
                                          "e.g. {visibility: {Offentlig: public}}"
    )

    @field_validator("date_format")
    @classmethod
    def _date_format(cls, value: str | None) -> str | None:
        return value if value is None else check_date_format(value)


def known_fields(kinds: dict[str, FieldMapping]) -> dict[str, FieldMapping]:
    """Field mappings may only name fields that the kind has (docs/snapshot.md): the
    validator of a source's `kinds`."""
    for kind, mapping in kinds.items():
        known = field_names(kind)
        for name in [*mapping.fields, *mapping.defaults, *mapping.values]:
            if name not in known:
                close = difflib.get_close_matches(name, known, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else f" (known: {', '.join(known)})"
                raise ValueError(f"kinds.{kind}: {name!r} is not a field of {kind}{hint}")
        _known_values(kind, mapping.values)
    return kinds


def _known_values(kind: str, values: dict[str, dict[str, str]]) -> None:
    """A value map onto a field with fixed choices must map onto those choices."""
    specs = {spec.name: spec for spec in field_specs(kind)}
    for name, table in values.items():
        for word, value in table.items():
            if problem := specs[name].choice_problem(value):
                raise ValueError(f"kinds.{kind}.values.{name}: {word}: {problem}")


class ExportSettings(Protocol):
    """What a source's config says about reading every kind of its export."""

    @property
    def date_format(self) -> str: ...

    @property
    def true_values(self) -> list[str]: ...

    @property
    def list_separator(self) -> str | None: ...


MISSING: Any = object()  # the export has no such column or key (unlike an empty value)
TRUE_VALUES = ("1", "true", "yes", "ja", "j", "x")  # a source's default true_values
FALSE_VALUES = ("0", "false", "no", "nej", "n", "")


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
    true_values: tuple[str, ...]
    list_separator: str | None  # None: lists must come as lists (JSON)

    @classmethod
    def of(cls, kind: str, mapping: FieldMapping, source: ExportSettings) -> FieldMap:
        return cls(
            kind=kind,
            mapping=mapping,
            date_format=mapping.date_format or source.date_format,
            true_values=tuple(value.casefold() for value in source.true_values),
            list_separator=source.list_separator,
        )

    def check_header(self, header: Sequence[str], where: str, has: str = "the file has") -> None:
        """Fail once for a file that lacks a column the mapping needs, not once per row,
        or has it twice (which of the two would be read?)."""
        needed = self._needed_columns()
        missing = [f"{column!r} ({use})" for column, use in needed.items() if column not in header]
        if missing:
            raise SourceError(f"{where}: {self.kind}: no column {', '.join(missing)}; "
                              f"{has}: {', '.join(header)}")
        twice = [f"{column!r} ({use})" for column, use in needed.items()
                 if header.count(column) > 1]
        if twice:
            raise SourceError(f"{where}: {self.kind}: the header has column {', '.join(twice)} "
                              "more than once")

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
        return self._convert(spec, self._translated(spec.name, value))

    def _translated(self, name: str, value: Any) -> Any:
        """The export's word for a value ("Offentlig", or a JSON code 2) as the record's."""
        words = self.mapping.values.get(name, {})
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            return value
        return words.get(str(value).strip(), value)

    def _extra(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        values = {name: lookup(raw, column) for name, column in self.mapping.extra.items()}
        return {name: _text(value) for name, value in values.items() if value is not MISSING}

    def _convert(self, spec: FieldSpec, value: Any) -> Any:
        if spec.type is FieldType.DATE:
            return _date(value, self.date_format)
        if spec.type is FieldType.BOOL:
            return _bool(value, self.true_values)
        if spec.type is FieldType.TEXT_LIST:
            return _text_list(value, self.list_separator)
        if spec.type is FieldType.TEXT:
            return _choice(spec, _text(value))
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
    except ValueError as exc:
        if str(exc).startswith("time data"):  # else the format matched: 31-02-2024
            problem = f"does not match date_format {date_format!r} ({readable(date_format)})"
        else:
            problem = f"is not a date ({exc})"
        return Unreadable(value, f"date {value!r} {problem}")


def _bool(value: Any, true_values: tuple[str, ...]) -> Any:
    if value is None or isinstance(value, bool):
        return bool(value)
    word = str(value).strip().casefold()
    if word in true_values:
        return True
    if word in FALSE_VALUES:
        return False
    trues, falses = ", ".join(true_values), ", ".join(FALSE_VALUES[:-1])
    return Unreadable(value, f"{_text(value)!r} is neither true ({trues}: the source's "
                             f"true_values) nor false ({falses} or empty)")


def _choice(spec: FieldSpec, value: Any) -> Any:
    """A value outside the field's choices, with a hint at the value map that fixes it."""
    problem = spec.choice_problem(value) if isinstance(value, str) else None
    if problem is None:
        return value
    return Unreadable(value, f"{problem}; if that is the export's word for one of them, "
                             f"map it with values: {{{spec.name}: {{{value}: ...}}}}")


def _text_list(value: Any, separator: str | None) -> Any:
    if isinstance(value, list):
        return value
    value = _text(value)
    if not isinstance(value, str) or separator is None:
        return value
    return [text for part in value.split(separator) if (text := _text(part))]


__all__ = ["MISSING", "FieldMap", "lookup"]
