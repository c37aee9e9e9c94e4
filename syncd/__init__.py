"""syncd: turns an authoritative org picture into directory accounts.

sources -> store -> mapping -> plan -> guards -> apply -> record
"""

from syncd.errors import (
    ConfigError,
    GuardTripped,
    NotFound,
    ObjectRejected,
    SnapshotRejected,
    SourceError,
    StoreError,
    SyncdError,
    TargetError,
    TargetUnavailable,
)

__version__ = "0.1.0"

__all__ = [
    "ConfigError",
    "GuardTripped",
    "NotFound",
    "ObjectRejected",
    "SnapshotRejected",
    "SourceError",
    "StoreError",
    "SyncdError",
    "TargetError",
    "TargetUnavailable",
    "__version__",
]
