"""The Lease state machine: client-go's tryAcquireOrRenew decisions, without I/O."""

from __future__ import annotations

import pytest

from reconciler.controller.leader import (
    LeaderTiming,
    LeaseRecord,
    Observation,
    decide,
    observe,
    still_leading,
)

ME = "me_1"


def lease(holder: str, rv: str = "10", duration: int = 15) -> LeaseRecord:
    return LeaseRecord(holder=holder, lease_duration_seconds=duration, transitions=0, resource_version=rv)


@pytest.mark.parametrize(
    ("observation", "now", "action"),
    [
        pytest.param(Observation(None, 0.0), 0.0, "create", id="no-lease-yet"),
        pytest.param(Observation(lease(ME), 0.0), 100.0, "renew", id="ours-renews-even-if-old"),
        pytest.param(Observation(lease("peer"), 100.0), 105.0, "wait", id="peer-alive"),
        pytest.param(Observation(lease("peer"), 100.0), 114.9, "wait", id="peer-just-before-expiry"),
        pytest.param(Observation(lease("peer"), 100.0), 115.0, "take", id="peer-expired"),
        pytest.param(Observation(lease(""), 100.0), 100.0, "take", id="released-is-free-at-once"),
        pytest.param(Observation(lease("peer", duration=1), 100.0), 101.0, "take",
                     id="released-style-short-lease"),
    ],
)
def test_decide(observation: Observation, now: float, action: str) -> None:
    assert decide(observation, ME, now) == action


def test_a_renewal_restarts_the_candidates_clock() -> None:
    first = observe(Observation(None, 0.0), lease("peer", rv="10"), now=100.0)
    same = observe(first, lease("peer", rv="10"), now=110.0)
    assert same.changed_at == 100.0  # unchanged record: the clock keeps running
    renewed = observe(same, lease("peer", rv="11"), now=112.0)
    assert renewed.changed_at == 112.0
    assert decide(renewed, ME, 120.0) == "wait"  # 15 s from the renewal, not from the first sight
    assert decide(renewed, ME, 127.0) == "take"


@pytest.mark.parametrize(
    ("last_renewed", "now", "leading"),
    [
        pytest.param(100.0, 105.0, True, id="renewed-recently"),
        pytest.param(100.0, 109.99, True, id="just-inside-deadline"),
        pytest.param(100.0, 110.0, False, id="renew-deadline-passed"),
    ],
)
def test_still_leading(last_renewed: float, now: float, leading: bool) -> None:
    assert still_leading(last_renewed, now, LeaderTiming()) is leading


def test_client_go_defaults() -> None:
    timing = LeaderTiming()
    assert (timing.lease_duration, timing.renew_deadline, timing.retry_period) == (15.0, 10.0, 2.0)


@pytest.mark.parametrize(
    ("duration", "deadline", "retry"),
    [pytest.param(10, 10, 2, id="deadline-not-below-duration"),
     pytest.param(15, 2, 2, id="retry-not-below-deadline"),
     pytest.param(15, 10, 0, id="zero-retry")],
)
def test_inconsistent_timing_is_refused(duration: float, deadline: float, retry: float) -> None:
    with pytest.raises(ValueError, match="lease duration > renew deadline > retry period"):
        LeaderTiming(duration, deadline, retry)
