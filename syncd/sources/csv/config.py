"""The config of a folder of CSV exports, one file per kind."""

from __future__ import annotations

import codecs
from pathlib import Path
from typing import ClassVar, Literal

from pydantic import Field, field_validator

from syncd.dateformat import check_date_format
from syncd.sources.config_base import SourceConfigBase
from syncd.sources.fieldmap import TRUE_VALUES, FieldMapping, KindName, known_fields


class CsvKind(FieldMapping):
    file: str = Field(description="the CSV file of this kind, inside the source's folder")


class CsvSource(SourceConfigBase):
    type: Literal["csv"]
    path: Path = Field(description="folder holding one CSV file per kind")
    encoding: str = "utf-8"
    delimiter: str = ","
    date_format: str = "%Y-%m-%d"
    true_values: list[str] = Field(default_factory=lambda: list(TRUE_VALUES))
    list_separator: str = "|"
    kinds: dict[KindName, CsvKind]

    local_paths: ClassVar[tuple[str, ...]] = ("path",)

    _fields = field_validator("kinds")(known_fields)
    _date_format = field_validator("date_format")(check_date_format)

    @field_validator("delimiter")
    @classmethod
    def _one_char(cls, value: str) -> str:
        if len(value) != 1:
            raise ValueError(f"must be one character, got {value!r}")
        return value

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str) -> str:
        try:
            codecs.lookup(value)
        except LookupError:
            raise ValueError(f"unknown encoding {value!r}; e.g. utf-8, cp1252 (Excel on "
                             "Windows) or latin-1") from None
        return value

    def where(self) -> str:
        return str(self.path)

    def files(self) -> list[Path]:
        return [self.path / kind.file for kind in self.kinds.values()]
