"""Sources: read an authoritative system into a `Snapshot` of org records.

Every source yields a full snapshot each time; the store works out what changed. A
source raises SourceError (naming the file or server) when it cannot be read; checking
the records themselves is the store's job. Each source type is a folder here, listed in
`registry.py`.
"""

from __future__ import annotations

from syncd.sources.config_base import SourceConfigBase
from syncd.sources.registry import SOURCE_TYPES, SourceType, read_source

__all__ = ["SOURCE_TYPES", "SourceConfigBase", "SourceType", "read_source"]
