"""The typed configuration, validated on load, with FILE:LINE for every problem.

The pydantic models are the single description of what a config may hold: unknown keys
are errors (with a did-you-mean), secrets are only ever read from a file or the
environment, and relative paths are taken relative to the config file. `load_config`
collects every problem before it raises, so a sysadmin fixes a config in one pass.

By concern: `loading` (the file, paths, files and environment it names), `secrets`,
`schedule`, `model` (the assembled `Config`), `base` (every model's base). Each source
and target type keeps its own config model in its folder, and `model` assembles them, so
the names below are looked up on first use: the plug-ins import `base`, `secrets` and
`schedule` while `model` imports the plug-ins.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from syncd.config.loading import config_path, load_config
    from syncd.config.model import Config
    from syncd.config.schedule import Schedule, check_crontab, seconds
    from syncd.config.secrets import read_secret
    from syncd.sources.csv.config import CsvSource
    from syncd.sources.http.config import HttpSource
    from syncd.sources.snapshot.config import SnapshotSource
    from syncd.targets.ldap.config import LdapTarget
    from syncd.targets.scim.config import ScimTarget

_HOME = {
    "config_path": "syncd.config.loading",
    "load_config": "syncd.config.loading",
    "Config": "syncd.config.model",
    "Schedule": "syncd.config.schedule",
    "check_crontab": "syncd.config.schedule",
    "seconds": "syncd.config.schedule",
    "read_secret": "syncd.config.secrets",
    "CsvSource": "syncd.sources.csv.config",
    "HttpSource": "syncd.sources.http.config",
    "SnapshotSource": "syncd.sources.snapshot.config",
    "LdapTarget": "syncd.targets.ldap.config",
    "ScimTarget": "syncd.targets.scim.config",
}


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(_HOME[name]), name)


__all__ = [
    "Config",
    "CsvSource",
    "HttpSource",
    "LdapTarget",
    "Schedule",
    "ScimTarget",
    "SnapshotSource",
    "check_crontab",
    "config_path",
    "load_config",
    "read_secret",
    "seconds",
]
