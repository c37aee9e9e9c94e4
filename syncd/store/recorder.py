"""Recording an apply's changes as they land, in batches.

One transaction per change cost as much as the change itself (about 1 ms on SQLite, a
round trip on PostgreSQL), so the changes of an apply are written together: at most
`BATCH` changes or `SECONDS` apart, and whatever is left when the apply ends or stops.
What a process killed between two batches loses is only bookkeeping the next cycle
redoes from the target itself: a reservation (written before any create, never
batched) keeps each new object's name, and the next read finds what landed by its
anchor and username, its marker or its DN, and records it (`cycle._settled`). What the
target cannot tell again, a delete (the row to forget) and a disable (the day it
happened, from which `delete_after_days` counts), is written at once, with what came
before it. Each change is also in the audit log stream (logger `syncd.audit`) the
moment it lands; the audit table may lack the last batch's rows after a kill.
"""

from __future__ import annotations

import time
from types import TracebackType

from sqlalchemy import Engine

from syncd.objects import DISABLED, Owned
from syncd.store.accounts import AuditEntry, forget_accounts, save_accounts, write_audit
from syncd.store.failures import store_errors

BATCH = 500
SECONDS = 1.0


class Recorder:
    """Audit rows and registry updates of one apply, written in batches, in order."""

    def __init__(self, engine: Engine, writer: Engine) -> None:
        self.engine, self.writer = engine, writer
        self.audit: list[AuditEntry] = []
        self.accounts: dict[tuple[str, str, str], Owned] = {}  # the last of each object
        self.forgotten: list[tuple[str, tuple[str, str]]] = []  # (target, (kind, key))
        self.since = time.monotonic()

    def record(self, entry: AuditEntry, account: Owned | None = None,
               forget: tuple[str, str] | None = None) -> None:
        """One applied (or refused) change: its audit row and registry update."""
        self.audit.append(entry)
        if account is not None:
            self.accounts[(account.target, account.kind, account.key)] = account
        if forget is not None:
            self.accounts.pop((entry.target, *forget), None)
            self.forgotten.append((entry.target, forget))
        taking_away = forget is not None or (account is not None and account.state == DISABLED)
        if taking_away or len(self.audit) >= BATCH or time.monotonic() - self.since >= SECONDS:
            self.flush()  # a delete or disable at once: its day and its going are not redone

    def flush(self) -> None:
        """Write what is held, in one transaction."""
        if self.audit or self.accounts:
            with store_errors(self.engine, self._doing()), self.writer.begin() as conn:
                write_audit(conn, self.audit)
                save_accounts(conn, list(self.accounts.values()))
                for target, key in self.forgotten:
                    forget_accounts(conn, target, [key])
        self.audit, self.accounts, self.forgotten = [], {}, []
        self.since = time.monotonic()

    def keep(self, account: Owned) -> None:
        """A registry row to write with the batch, with no change of its own."""
        self.accounts[(account.target, account.kind, account.key)] = account

    def _doing(self) -> str:
        """What a failure names: the change (one), or how many and the first."""
        if not self.audit:
            return f"saving {len(self.accounts)} registry row(s)"
        first = self.audit[0]
        one = f"the {first.action} of {first.kind} {first.key} in {first.target}"
        return f"recording {one}" if len(self.audit) == 1 else \
            f"recording {len(self.audit)} changes, the first {one}"

    def __enter__(self) -> Recorder:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.flush()  # what landed is recorded, whatever ended the apply
