"""Sources: read an authoritative system into a `Snapshot` of org records.

Every source yields a full snapshot each time; the store works out what changed. A
source raises SourceError (naming the file or server) when it cannot be read; checking
the records themselves is the store's job.
"""

from __future__ import annotations

from syncd.config import CsvSource, HttpSource, SnapshotSource
from syncd.org import Snapshot
from syncd.sources.csvdir import read_csv_source
from syncd.sources.http import read_http_source
from syncd.sources.snapshot import read_snapshot_file

SourceConfig = SnapshotSource | CsvSource | HttpSource


def read_source(source: SourceConfig) -> Snapshot:
    if isinstance(source, SnapshotSource):
        return read_snapshot_file(source.path)
    if isinstance(source, CsvSource):
        return read_csv_source(source)
    return read_http_source(source)


__all__ = ["SourceConfig", "read_source"]
