"""The errors syncd raises on purpose, each carrying the exit code the CLI returns.

    SyncdError                  exit 1
    ├── ConfigError             config or mapping file is wrong; lists every problem
    ├── SourceError             a source could not be read (file, server, format)
    ├── SnapshotRejected        the records read break the schema; store left as it was
    ├── StoreError              the org store cannot be opened or migrated
    ├── NotFound                `show` of an id the store does not hold
    ├── TargetError             a target could not be read or written
    │   ├── TargetUnavailable   server unreachable, connection dropped
    │   │   └── BindRefused     wrong credentials: never retried soon (account lockout)
    │   └── ObjectRejected      the server refused one object; the cycle goes on
    └── GuardTripped            exit 3: a safety guard stopped a destructive change

Only `syncd.cli.main` turns these into an exit status. Anything else that escapes is a
bug and is reported with a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input, located as precisely as the input allows."""

    file: str
    line: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"

    def as_dict(self) -> dict[str, object]:
        return {"file": self.file, "line": self.line, "path": self.path, "message": self.message}


class SyncdError(Exception):
    exit_code = 1


class ConfigError(SyncdError):
    """Every problem found in the config (and mappings), not just the first."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class SourceError(SyncdError):
    pass


class SnapshotRejected(SyncdError):
    """A snapshot was refused whole; `problems` lists each bad record."""

    def __init__(self, summary: str, problems: list[str]):
        self.summary = summary
        self.problems = problems
        super().__init__("\n".join([summary, *problems]))


class StoreError(SyncdError):
    pass


class NotFound(SyncdError):
    pass


class TargetError(SyncdError):
    pass


class TargetUnavailable(TargetError):
    pass


class BindRefused(TargetUnavailable):
    pass


class ObjectRejected(TargetError):
    pass


class GuardTripped(SyncdError):
    exit_code = 3
