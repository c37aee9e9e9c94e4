"""The native source: one JSON or YAML file in the shape of docs/snapshot.md."""

from syncd.sources.snapshot.config import SnapshotSource
from syncd.sources.snapshot.reader import read_snapshot_file, read_snapshot_source

__all__ = ["SnapshotSource", "read_snapshot_file", "read_snapshot_source"]
