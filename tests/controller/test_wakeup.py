"""Outcome -> next wake-up: what holds the queue and what sets a timer."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from reconciler.controller.wakeup import Wakeup, next_wakeup
from reconciler.cycle.outcome import CycleResult, Outcome
from reconciler.kube.applying import ApplyReport
from reconciler.kubeedge import V1ALPHA2
from reconciler.planner import plan
from tests.fleet_builders import BELONGING, fleet, group, node_object, nodes_facts

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


def _planned(*, pending: bool, revisit_in: float | None) -> CycleResult:
    """A cycle result carrying a real plan: one node missing an image (`pending`: a job gets
    created) or holding it, with the plan's revisit time `revisit_in` seconds after the cycle."""
    images = [] if pending else [["docker.io/library/nginx:1.25"]]
    node = node_object("edge-a", labels={BELONGING: "line"}, images=images)
    planned = plan(fleet(group("line", ["nginx:1.25"], node_group="line")), nodes_facts(node), [], [],
                   now=T0, revision="c0ffee", job_api_version=V1ALPHA2)
    at = T0 + timedelta(seconds=revisit_in) if revisit_in is not None else None
    outcome = Outcome.PROGRESSING if pending or revisit_in is not None else Outcome.CONVERGED
    applied = ApplyReport(dry_run=False, created=tuple(j.name for j in planned.create))
    return CycleResult(outcome, "m", started_at=T0, finished_at=T0, plan=replace(planned, revisit_at=at),
                       applied=applied)


@pytest.mark.parametrize(
    ("cycle", "speed", "expected"),
    [
        pytest.param(_planned(pending=False, revisit_in=120.0), 1.0, Wakeup(timer=120.0),
                     id="only-a-backoff-left-wakes-when-it-falls-due"),
        pytest.param(_planned(pending=False, revisit_in=7200.0), 1.0, Wakeup(timer=600.0),
                     id="a-backoff-hours-away-waits-no-longer-than-the-resync"),
        pytest.param(_planned(pending=False, revisit_in=3600.0), 60.0, Wakeup(timer=60.0),
                     id="a-fast-plan-clock-shortens-the-real-timer"),
        pytest.param(_planned(pending=True, revisit_in=3600.0), 1.0, Wakeup(timer=15.0),
                     id="jobs-just-written-are-followed-closely"),
    ],
)
def test_wakeup_follows_the_plans_revisit_time(cycle: CycleResult, speed: float, expected: Wakeup) -> None:
    assert next_wakeup(cycle, interval=600.0, failures=0, clock_speed=speed) == expected


def test_a_converged_fleet_wakes_for_a_due_ttl_and_otherwise_sleeps() -> None:
    ttl_due = replace(_planned(pending=False, revisit_in=300.0), outcome=Outcome.CONVERGED)
    assert next_wakeup(ttl_due, interval=600.0, failures=0) == Wakeup(timer=300.0)
    idle = _planned(pending=False, revisit_in=None)
    assert idle.outcome is Outcome.CONVERGED
    assert next_wakeup(idle, interval=600.0, failures=0) == Wakeup()
