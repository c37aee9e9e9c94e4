"""One retry policy for every call that may fail for a moment (an LDAP connection, an HR
API page): a bounded number of attempts with exponential backoff, then the last error or
answer as it was, for the caller to turn into its own one-line error."""

from __future__ import annotations

import ssl
from collections.abc import Callable
from typing import Any

import tenacity


def policy(attempts: int, *, first: float, most: float,
           retry: tenacity.retry_base,
           on_retry: Callable[[tenacity.RetryCallState], None],
           asked: Callable[[Any], float | None] = lambda answer: None) -> tenacity.Retrying:
    """Up to `attempts` tries, waiting `first` seconds, then twice that, ... at most
    `most`. `asked` reads the wait an answer asks for (an HTTP Retry-After), which is
    waited instead where it gives one. When the tries run out, the last exception is
    raised or the last answer is returned (an HTTP 503 stays a response)."""
    backoff = tenacity.wait_exponential(multiplier=first, max=most)

    def wait(state: tenacity.RetryCallState) -> float:
        outcome = state.outcome
        answer = None if outcome is None or outcome.failed else outcome.result()
        wanted = asked(answer) if answer is not None else None
        return float(backoff(state)) if wanted is None else wanted

    return tenacity.Retrying(
        stop=tenacity.stop_after_attempt(attempts),
        wait=wait,
        retry=retry,
        before_sleep=on_retry,
        retry_error_callback=_last_outcome,
    )


def backoff(failures: int, *, first: float, most: float) -> float:
    """Seconds to wait after the `failures`-th failure in a row of work that is retried
    from outside a call (the daemon's early retry of a target): the same exponential
    backoff as `policy`."""
    state = tenacity.RetryCallState(tenacity.Retrying(), None, (), {})
    state.attempt_number = failures
    return float(tenacity.wait_exponential(multiplier=first, max=most)(state))


def _last_outcome(state: tenacity.RetryCallState) -> Any:
    assert state.outcome is not None
    return state.outcome.result()  # raises the last exception, or gives the last answer


def next_wait(state: tenacity.RetryCallState) -> float:
    """Seconds until the next try, for the log line that announces it."""
    return state.next_action.sleep if state.next_action else 0.0


def tls_error(exc: BaseException) -> ssl.SSLError | None:
    """The ssl error behind a client library's error, if any: those do not heal on retry."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None
