"""A folder of CSV exports, one file per kind, as HR and payroll systems write them.

The whole file is decoded before parsing so that a wrong `encoding` is reported with
its line number, and an export is taken whole or not at all. A UTF-8 export read as
cp1252 or latin-1 decodes without error into mojibake ("Åge" as "Ã…ge") and would
rename everyone with a Danish letter, so decoded text that ftfy recognises as UTF-8
read wrongly is refused with the encoding to set.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from pathlib import Path
from typing import Any

import ftfy
from ftfy.badness import is_bad

from syncd.errors import SourceError
from syncd.org import Place, Snapshot
from syncd.sources.csv.config import CsvSource
from syncd.sources.fieldmap import FieldMap

UTF8 = ("utf-8", "utf-8-sig")  # codecs' names for them
UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def read_csv_source(source: CsvSource) -> Snapshot:
    snapshot = Snapshot()
    for kind, mapping in source.kinds.items():
        path = source.path / mapping.file
        text = _decode(path, source.encoding, source.delimiter)
        fieldmap = FieldMap.of(kind, mapping, source)
        records, places = _parse(path, text, source.delimiter, fieldmap)
        snapshot.records[kind], snapshot.places[kind] = records, places
        snapshot.origin[kind] = str(path)
    return snapshot


def _decode(path: Path, encoding: str, delimiter: str) -> str:
    """The file's text; a UTF-8 byte order mark is dropped whatever `encoding` says."""
    data = _read(path)
    codec = codecs.lookup(encoding).name
    if data.startswith(UTF16_BOMS) and not codec.startswith("utf-16"):
        raise SourceError(f"{path}:1: the file is UTF-16 (it starts with a UTF-16 byte order "
                          "mark, as Excel's 'Unicode text' does); set encoding: utf-16")
    utf8_bom = data.startswith(codecs.BOM_UTF8)
    data = data.removeprefix(codecs.BOM_UTF8)
    try:
        text = data.decode(encoding).removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        raise SourceError(_undecodable(path, data, encoding, exc)) from None
    if codec not in UTF8:
        _refuse_mojibake(path, text, encoding, delimiter, utf8_bom)
    return text


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise SourceError(f"{path}: no such file") from None
    except OSError as exc:
        raise SourceError(f"{path}: cannot read: {exc.strerror}") from None


def _undecodable(path: Path, data: bytes, encoding: str, exc: UnicodeDecodeError) -> str:
    line = data.count(b"\n", 0, exc.start) + 1
    if codecs.lookup(encoding).name in UTF8:
        fix = "cp1252 (what Excel on Windows writes) or latin-1"
    elif _is_utf8(data):
        fix = "utf-8 (the file is UTF-8)"
    else:
        fix = "the one the export is written in"
    return (f"{path}:{line}: not {encoding}: byte {data[exc.start]:#04x} ({exc.reason}); "
            f"set the source's encoding: {fix}")


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _refuse_mojibake(path: Path, text: str, encoding: str, delimiter: str, bom: bool) -> None:
    """SourceError at the first line that ftfy reads as UTF-8 decoded as `encoding`."""
    if not is_bad(text):
        return
    for number, line in enumerate(text.split("\n"), 1):
        fixed = ftfy.fix_encoding_and_explain(line)
        if is_bad(line) and ("decode", "utf-8") in (fixed.explanation or ()):
            word, meant = _first_difference(line, fixed.text, delimiter)
            marked = " and starts with a UTF-8 byte order mark" if bom else ""
            raise SourceError(f"{path}:{number}: looks like UTF-8 read as {encoding} "
                              f"({word!r} is {meant!r} in UTF-8){marked}; set encoding: utf-8")


def _first_difference(line: str, fixed: str, delimiter: str) -> tuple[str, str]:
    """The first word that differs once fixed: the example that shows the mojibake.
    Not split at \\s, which matches the U+0085 in latin-1 mojibake ("Ã\\x85ge")."""
    split = re.compile(rf"[ \t{re.escape(delimiter)}\"]+").split
    pairs = [(a, b) for a, b in zip(split(line), split(fixed), strict=False) if a != b]
    return pairs[0] if pairs else (line, fixed)


def _parse(path: Path, text: str, delimiter: str,
           fieldmap: FieldMap) -> tuple[list[dict[str, Any]], list[Place]]:
    """The records and the line each starts on (a quoted value may hold line breaks)."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    records: list[dict[str, Any]] = []
    places: list[Place] = []
    try:
        header = [name.strip() for name in next(reader, [])]
        if not header:
            raise SourceError(f"{path}: empty file; want a header line")
        fieldmap.check_header(header, f"{path}:{reader.line_num}")
        start = reader.line_num + 1
        for cells in reader:
            if any(cell.strip() for cell in cells):  # not a blank line or one of ";;;;"
                records.append(fieldmap.record(dict(zip(header, cells, strict=False))))
                places.append(Place(str(path), start, _count_problem(len(cells), len(header))))
            start = reader.line_num + 1
    except csv.Error as exc:
        raise SourceError(f"{path}:{reader.line_num}: malformed CSV: {exc}") from None
    return records, places


def _count_problem(cells: int, columns: int) -> str | None:
    """A row whose cells do not line up with the header: none of its fields can be trusted."""
    if cells < columns:
        return (f"{cells} fields, the header has {columns} (a row cut short, or a line "
                "break inside an unquoted value?)")
    if cells > columns:
        return (f"{cells} fields, the header has {columns} (a delimiter inside an unquoted "
                "value? quote it)")
    return None
