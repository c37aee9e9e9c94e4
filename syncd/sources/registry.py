"""Every source type: its `type:` in the config, its config model, and its reader.

Adding a source type is a folder under syncd/sources/ (a config model deriving from
SourceConfigBase, and a reader returning a Snapshot) and one line here; the config's
`sources:` list takes the new `type:` from this table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from syncd.org import Snapshot
from syncd.sources.config_base import SourceConfigBase
from syncd.sources.csv import CsvSource, read_csv_source
from syncd.sources.http import HttpSource, read_http_source
from syncd.sources.ldap import LdapSource, read_ldap_source
from syncd.sources.os2mo import Os2moSource, read_os2mo_source
from syncd.sources.snapshot import SnapshotSource, read_snapshot_source
from syncd.sources.sql import SqlSource, read_sql_source

C = TypeVar("C", bound=SourceConfigBase)


@dataclass(frozen=True)
class SourceType(Generic[C]):
    name: str  # the `type:` in the config
    config_model: type[C]
    read: Callable[[C], Snapshot]


_TYPES: list[SourceType[Any]] = [
    SourceType("snapshot", SnapshotSource, read_snapshot_source),
    SourceType("csv", CsvSource, read_csv_source),
    SourceType("http", HttpSource, read_http_source),
    SourceType("os2mo", Os2moSource, read_os2mo_source),
    SourceType("sql", SqlSource, read_sql_source),
    SourceType("ldap", LdapSource, read_ldap_source),
]
SOURCE_TYPES = {t.name: t for t in _TYPES}


def read_source(config: SourceConfigBase) -> Snapshot:
    """Read one source whole; SourceError naming the file or server when it cannot be."""
    return SOURCE_TYPES[config.type].read(config)
