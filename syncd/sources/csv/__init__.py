"""A folder of CSV exports, one file per kind, as HR and payroll systems write them."""

from __future__ import annotations

from syncd.org import Snapshot
from syncd.sources.csv.config import CsvKind, CsvSource


def read_csv_source(config: CsvSource) -> Snapshot:
    """Read the folder; the reader (and what decodes exports) loads only when one is read,
    so that a command that reads no source starts without it."""
    from syncd.sources.csv.reader import read_csv_source as read

    return read(config)


__all__ = ["CsvKind", "CsvSource", "read_csv_source"]
