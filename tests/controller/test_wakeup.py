"""Outcome -> next wake-up: what holds the queue and what sets a timer."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from reconciler.controller.wakeup import Wakeup, next_wakeup
from reconciler.cycle.outcome import CycleResult, Outcome

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def result(outcome: Outcome, retry_after: float | None = None) -> CycleResult:
    return CycleResult(outcome, "m", started_at=T0, retry_after=retry_after)


@pytest.mark.parametrize(
    ("outcome", "retry_after", "failures", "expected"),
    [
        pytest.param(Outcome.CONVERGED, None, 0, Wakeup(), id="converged-waits-for-events"),
        pytest.param(Outcome.STALLED, None, 0, Wakeup(), id="stalled-waits-for-a-new-commit"),
        pytest.param(Outcome.PROGRESSING, None, 0, Wakeup(timer=15.0), id="progressing-looks-again-soon"),
        pytest.param(Outcome.WAITING, 7.0, 0, Wakeup(hold=7.0, timer=7.0), id="waiting-honours-retry-after"),
        pytest.param(Outcome.TRANSIENT, None, 0, Wakeup(hold=5.0, timer=5.0), id="transient-first-backoff"),
        pytest.param(Outcome.TRANSIENT, None, 3, Wakeup(hold=40.0, timer=40.0), id="transient-doubles"),
        pytest.param(Outcome.TRANSIENT, None, 30, Wakeup(hold=300.0, timer=300.0), id="transient-capped"),
    ],
)
def test_next_wakeup(outcome: Outcome, retry_after: float | None, failures: int, expected: Wakeup) -> None:
    assert next_wakeup(result(outcome, retry_after), interval=600.0, failures=failures) == expected


def test_progressing_never_waits_longer_than_the_resync_interval() -> None:
    assert next_wakeup(result(Outcome.PROGRESSING), interval=4.0, failures=0) == Wakeup(timer=4.0)
