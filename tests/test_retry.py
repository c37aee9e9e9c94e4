"""The one retry policy: bounded tries, growing waits, the last outcome as it was."""

from __future__ import annotations

import pytest
import tenacity

from syncd.retry import backoff, next_wait, policy


def run(outcomes: list, attempts: int):
    waits: list[float] = []
    calls = iter(outcomes)

    def call():
        outcome = next(calls)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    retrying = policy(attempts, first=0.001, most=0.002,
                      retry=tenacity.retry_if_exception_type(OSError)
                      | tenacity.retry_if_result(lambda value: value >= 500),
                      on_retry=lambda state: waits.append(next_wait(state)))
    return retrying(call), waits


@pytest.mark.parametrize(("outcomes", "attempts", "result", "tries"), [
    ([200], 3, 200, 1),
    ([OSError(), 200], 3, 200, 2),
    ([503, 503, 200], 3, 200, 3),
    ([503, 503, 503], 3, 503, 3),  # the last answer, not an error of the policy's own
])
def test_the_last_outcome_comes_back(outcomes, attempts, result, tries):
    value, waits = run(outcomes, attempts)
    assert value == result and len(waits) == tries - 1
    assert waits == sorted(waits) and all(0 < wait <= 0.002 for wait in waits)


def test_the_last_error_is_raised_when_the_tries_run_out():
    with pytest.raises(OSError, match="third"):
        run([OSError("first"), OSError("second"), OSError("third")], 3)


def test_an_error_not_worth_retrying_is_raised_at_once():
    with pytest.raises(ValueError):
        run([ValueError("bad"), 200], 3)


@pytest.mark.parametrize(("failures", "wait"), [(1, 30.0), (2, 60.0), (3, 120.0), (9, 3600.0)])
def test_work_retried_across_runs_waits_as_long_as_the_policy(failures, wait):
    """The daemon's early retry of a failed target: 30 s, 60 s, ... capped."""
    assert backoff(failures, first=30.0, most=3600.0) == wait
