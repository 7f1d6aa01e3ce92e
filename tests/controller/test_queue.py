"""The debounced work queue: when a cycle is due, and what it is told."""

from __future__ import annotations

import threading

import pytest

from reconciler.controller.queue import QueueTiming, WorkQueue, next_due

TIMING = QueueTiming(debounce=1.0, max_delay=5.0)


@pytest.mark.parametrize(
    ("first", "last", "timer", "hold", "expected"),
    [
        pytest.param(None, None, None, 0.0, None, id="nothing-pending"),
        pytest.param(10.0, 10.0, None, 0.0, 11.0, id="one-event-waits-the-quiet-period"),
        pytest.param(10.0, 12.5, None, 0.0, 13.5, id="later-event-extends-the-quiet-period"),
        pytest.param(10.0, 14.8, None, 0.0, 15.0, id="a-steady-stream-is-capped-by-max-delay"),
        pytest.param(None, None, 30.0, 0.0, 30.0, id="timer-alone"),
        pytest.param(10.0, 10.0, 10.5, 0.0, 10.5, id="earlier-timer-wins"),
        pytest.param(10.0, 10.0, None, 40.0, 40.0, id="hold-delays-events"),
        pytest.param(None, None, 20.0, 40.0, 40.0, id="hold-delays-timer"),
        pytest.param(None, None, None, 40.0, None, id="hold-alone-asks-for-nothing"),
    ],
)
def test_next_due(first: float | None, last: float | None, timer: float | None, hold: float,
                  expected: float | None) -> None:
    assert next_due(first_event=first, last_event=last, timer=timer, hold_until=hold,
                    timing=TIMING) == expected


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_of_events_becomes_one_batch_with_every_reason() -> None:
    clock = FakeClock()
    queue = WorkQueue(TIMING, clock=clock)
    queue.add("nodes/a changed")
    clock.now += 0.5
    queue.add("nodes/b changed")
    queue.add("nodes/a changed")
    clock.now += 0.9
    assert queue.take_if_due() is None  # still within the quiet period of the last event
    clock.now += 0.2
    batch = queue.take_if_due()
    assert batch is not None and batch.reasons == ("nodes/a changed", "nodes/b changed")
    assert queue.take_if_due() is None and queue.due() is None


def test_add_now_skips_the_debounce_but_not_a_hold() -> None:
    clock = FakeClock()
    queue = WorkQueue(TIMING, clock=clock)
    queue.hold(clock.now + 3)
    queue.add_now("git: new revision")
    assert queue.take_if_due() is None
    clock.now += 3
    batch = queue.take_if_due()
    assert batch is not None and batch.reasons == ("git: new revision",)


def test_timer_fires_once_with_its_reason() -> None:
    clock = FakeClock()
    queue = WorkQueue(TIMING, clock=clock)
    queue.set_timer(clock.now + 10, "after a progressing cycle")
    clock.now += 10
    batch = queue.take_if_due()
    assert batch is not None and batch.reasons == ("after a progressing cycle",)
    assert queue.due() is None


def test_wait_batch_wakes_on_add_and_returns_none_after_close() -> None:
    queue = WorkQueue(QueueTiming(debounce=0.01, max_delay=0.05))
    got: list[object] = []

    def worker() -> None:
        got.append(queue.wait_batch(5))
        got.append(queue.wait_batch(5))  # blocks until close

    thread = threading.Thread(target=worker)
    thread.start()
    queue.add("nodes/x added")
    while not got:
        thread.join(0.01)
    queue.close()
    thread.join(5)
    assert not thread.is_alive()
    first, second = got
    assert first is not None and first.reasons == ("nodes/x added",)  # type: ignore[attr-defined]
    assert second is None


def test_wait_batch_gives_up_after_its_timeout() -> None:
    queue = WorkQueue(QueueTiming(debounce=0.01, max_delay=0.05))
    assert queue.wait_batch(0.05) is None
