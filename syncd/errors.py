"""The errors syncd raises on purpose, each carrying the exit code the CLI returns.

    SyncdError                  exit 1
    ├── ConfigError             config or mapping file is wrong; lists every problem
    ├── RenderBudgetExceeded    a cycle's templates took longer than its budget
    ├── SourceError             a source could not be read (file, server, format)
    ├── SnapshotRejected        the records read break the schema; store left as it was
    ├── StoreError              the org store cannot be opened, read or written
    │   └── OtherSchema         the store was made by another version of syncd
    ├── Busy                    another process (or thread) holds a lease right now
    ├── LeaseLost               a lease ran out while this process still worked under it
    ├── NotFound                `show` of an id the store does not hold
    ├── TargetError             a target could not be read or written
    │   ├── TargetUnavailable   server unreachable, connection dropped
    │   │   └── BindRefused     wrong credentials: never retried soon (account lockout)
    │   └── ObjectRejected      the server refused one object; the cycle goes on
    │       └── MoveRefused     ... refused to move it: the entry is where it was
    ├── CycleStopped            the daemon stops between two stages of a cycle
    └── GuardTripped            exit 3: a safety guard stopped a destructive change
        └── ShrinkRefused       a snapshot would remove too much of a kind

Inside a stage, found and reported as Problems, never shown as such:
    TemplateError               a template that does not compile or render
    UsernameError               no username could be made for one person
    InvalidDn (ValueError)      text that is not a DN by RFC 4514

Only `syncd.cli.main` turns these into an exit status. Anything else that escapes is a
bug and is reported with a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input, located as precisely as the input allows.

    `subject` names the record or object it was found on ("person p17 (Åge Ørsted)"); it
    is shown, but left out when identical problems are grouped (`group_problems`).
    """

    file: str
    line: int | None
    path: str
    message: str
    subject: str = ""

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file

    def __str__(self) -> str:
        text = f"{self.subject}: {self.message}" if self.subject else self.message
        return f"{self.where}: {self.path}: {text}" if self.path else f"{self.where}: {text}"

    def as_dict(self) -> dict[str, object]:
        return {"file": self.file, "line": self.line, "path": self.path, "message": self.message,
                "subject": self.subject}


@dataclass(frozen=True)
class ProblemGroup:
    """Problems alike but for their subject or line: one typo in a template fails for
    every person, and a sysadmin needs one line for it, with a count and a few examples."""

    problems: tuple[Problem, ...]
    examples: int = 3

    @property
    def first(self) -> Problem:
        return self.problems[0]

    def __str__(self) -> str:
        if len(self.problems) == 1:
            return str(self.first)
        first = self.first
        where = f"{first.path}: " if first.path else ""
        shown = ", ".join(map(self._example, self.problems[:self.examples]))
        more = len(self.problems) - self.examples
        tail = f", and {more} more" if more > 0 else ""
        return (f"{first.where}: {where}{first.message} "
                f"({len(self.problems)} times: {shown}{tail})")

    def _example(self, problem: Problem) -> str:
        """What tells the problems apart: their lines in one file (a CSV export's rows),
        else their subjects (the persons one template line failed for)."""
        if problem.line and len({p.line for p in self.problems}) > 1:
            return f"line {problem.line}"
        return problem.subject or problem.where


def group_problems(problems: list[Problem], examples: int = 3) -> list[ProblemGroup]:
    """Group problems with the same file, path and message, in order of first sight."""
    groups: dict[tuple[str, str, str], list[Problem]] = {}
    for problem in problems:
        groups.setdefault((problem.file, problem.path, problem.message), []).append(problem)
    return [ProblemGroup(tuple(items), examples) for items in groups.values()]


class SyncdError(Exception):
    exit_code = 1


class ConfigError(SyncdError):
    """Every problem found in the config (and mappings), not just the first."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class RenderBudgetExceeded(SyncdError):
    """The renders of one cycle took longer than its budget: the cycle is abandoned."""


class SourceError(SyncdError):
    pass


class SnapshotRejected(SyncdError):
    """A snapshot was refused whole; `problems` has every problem of every record, and
    `lines()` them grouped (`group_problems`) for a person to read."""

    MAX_LISTED = 200  # groups shown; the count in the summary is of every problem

    def __init__(self, summary: str, problems: list[Problem]):
        self.summary = summary
        self.problems = problems
        super().__init__("\n".join([summary, *self.lines()]))

    def lines(self) -> list[str]:
        groups = group_problems(self.problems)
        shown = [str(group) for group in groups[:self.MAX_LISTED]]
        if len(groups) > self.MAX_LISTED:
            shown.append(f"... and {len(groups) - self.MAX_LISTED} more")
        return shown


class StoreError(SyncdError):
    pass


class OtherSchema(StoreError):
    """The store was made by another version of syncd."""


class Busy(SyncdError):
    """Another process (or thread) holds the lease right now."""

    def __init__(self, name: str, message: str):
        super().__init__(message)
        self.name = name


class LeaseLost(SyncdError):
    """The lease ran out while this process still worked under it."""


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


class CycleStopped(SyncdError):
    pass


class MoveRefused(ObjectRejected):
    """The server refused to move an entry: it is still at its old DN."""


class GuardTripped(SyncdError):
    exit_code = 3


class ShrinkRefused(GuardTripped):
    """The snapshot would remove more of a kind than `safety.source_max_shrink` allows."""


class TemplateError(Exception):
    """A template that does not compile or does not render; `problem` says where and why."""

    def __init__(self, problem: Problem):
        self.problem = problem
        super().__init__(str(problem))


class UsernameError(Exception):
    """No username could be made for one person; `label` names them."""

    def __init__(self, label: str, message: str):
        self.label, self.message = label, message
        super().__init__(f"{label}: {message}")


class InvalidDn(ValueError):
    """Text that is not a DN by RFC 4514."""
