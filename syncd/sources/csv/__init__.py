"""A folder of CSV exports, one file per kind, as HR and payroll systems write them."""

from syncd.sources.csv.config import CsvKind, CsvSource
from syncd.sources.csv.reader import read_csv_source

__all__ = ["CsvKind", "CsvSource", "read_csv_source"]
