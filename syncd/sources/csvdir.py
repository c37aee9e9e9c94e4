"""A folder of CSV exports, one file per kind, as HR and payroll systems write them.

The whole file is decoded before parsing so that a wrong `encoding` is reported with
its line number, and an export is taken whole or not at all.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from syncd.config import CsvSource
from syncd.errors import SourceError
from syncd.org import Snapshot
from syncd.sources.fieldmap import FieldMap


def read_csv_source(source: CsvSource) -> Snapshot:
    snapshot = Snapshot()
    for kind, mapping in source.kinds.items():
        path = source.path / mapping.file
        text = _decode(path, source.encoding)
        fieldmap = FieldMap.of(kind, mapping, source)
        snapshot.records[kind] = _parse(path, text, source.delimiter, fieldmap)
        snapshot.origin[kind] = str(path)
    return snapshot


def _decode(path: Path, encoding: str) -> str:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise SourceError(f"{path}: no such file") from None
    except OSError as exc:
        raise SourceError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        text = data.decode(encoding)
    except LookupError:
        raise SourceError(f"{path}: unknown encoding {encoding!r}") from None
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise SourceError(
            f"{path}:{line}: not {encoding}: byte {data[exc.start]:#04x} ({exc.reason}); "
            "set the source's encoding, e.g. cp1252, latin-1 or utf-8-sig"
        ) from None
    return text.removeprefix("\ufeff")  # a BOM left by Excel, whatever the encoding says


def _parse(path: Path, text: str, delimiter: str, fieldmap: FieldMap) -> list[dict[str, Any]]:
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        if reader.fieldnames is None:
            raise SourceError(f"{path}: empty file; want a header line")
        header = reader.fieldnames = [name.strip() for name in reader.fieldnames]
        fieldmap.check_header(header, f"{path}:1")
        records = []
        for row in reader:
            if None in row:  # DictReader's key for cells beyond the header
                raise SourceError(f"{path}:{reader.line_num}: {len(header) + len(row[None])} "
                                  f"fields, the header has {len(header)} (a delimiter "
                                  "inside an unquoted value?)")
            records.append(fieldmap.record(row))
    except csv.Error as exc:
        line = reader.reader.line_num  # DictReader's own count lags on a failed row
        raise SourceError(f"{path}:{line}: malformed CSV: {exc}") from None
    return records
