"""The debounced work queue that decides when the next reconcile cycle runs.

The controller reconciles the whole fleet at once (one cycle plans every group), so the queue
holds no keys: it collects *reasons* (a watch event, a new git revision, a timer) and hands
them out as one batch when a cycle is due. Bursts are debounced: a cycle runs once events have
been quiet for `debounce` seconds, but never later than `max_delay` after the first of them,
so a steady stream of node heartbeats cannot starve the fleet. After a cycle, the outcome can
hold the queue (`hold_until`: a 429's Retry-After or a transient backoff) and set a timer (the
next periodic wake-up).

`next_due` is the pure rule; `WorkQueue` is the thread-safe shell around it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class QueueTiming:
    """Debounce settings in seconds: quiet period after the last event, cap after the first.

    A cycle lists the whole fleet, so a busy fleet (jobs reporting progress on thousands of
    nodes) must not start one per event: at most one every `max_delay` while events flow.
    """

    debounce: float = 1.0
    max_delay: float = 10.0


def next_due(
    *,
    first_event: float | None,
    last_event: float | None,
    timer: float | None,
    hold_until: float,
    timing: QueueTiming,
) -> float | None:
    """When the next cycle should start, or None when nothing asks for one.

    Reads: the time of the first and last pending event (both None when none is pending), the
    pending timer, and the hold (cycles may not start before it). Pure: all times are numbers
    on one monotonic scale.
    """
    candidates: list[float] = []
    if first_event is not None and last_event is not None:
        candidates.append(min(last_event + timing.debounce, first_event + timing.max_delay))
    if timer is not None:
        candidates.append(timer)
    if not candidates:
        return None
    return max(min(candidates), hold_until)


@dataclass(frozen=True, slots=True)
class Batch:
    """The reasons for one cycle, oldest first (deduplicated)."""

    reasons: tuple[str, ...]


class WorkQueue:
    """Thread-safe debounced queue; any thread may `add`, one worker calls `wait_batch`."""

    def __init__(self, timing: QueueTiming = QueueTiming(),
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._timing = timing
        self._clock = clock
        self._cond = threading.Condition()
        self._reasons: list[str] = []
        self._first: float | None = None
        self._last: float | None = None
        self._timer: float | None = None
        self._timer_reason = ""
        self._hold_until = 0.0
        self._closed = False

    def add(self, reason: str) -> None:
        """Ask for a cycle because of `reason` (debounced with other pending events)."""
        with self._cond:
            now = self._clock()
            if self._first is None:
                self._first = now
            self._last = now
            if reason not in self._reasons:
                self._reasons.append(reason)
            self._cond.notify_all()

    def add_now(self, reason: str) -> None:
        """Ask for a cycle as soon as any hold allows, skipping the debounce (a webhook)."""
        with self._cond:
            now = self._clock()
            self._first = self._last = now - self._timing.max_delay
            if reason not in self._reasons:
                self._reasons.append(reason)
            self._cond.notify_all()

    def set_timer(self, at: float, reason: str) -> None:
        """Ask for a cycle at monotonic time `at` (replaces an earlier timer)."""
        with self._cond:
            self._timer, self._timer_reason = at, reason
            self._cond.notify_all()

    def hold(self, until: float) -> None:
        """Start no cycle before monotonic time `until` (backoff, Retry-After)."""
        with self._cond:
            self._hold_until = until
            self._cond.notify_all()

    def due(self) -> float | None:
        """When the next batch is due (None: nothing pending)."""
        with self._cond:
            return self._due_locked()

    def take_if_due(self) -> Batch | None:
        """The pending batch if it is due now (clearing it), else None. Never blocks."""
        with self._cond:
            return self._take_locked(self._clock())

    def wait_batch(self, timeout: float | None = None) -> Batch | None:
        """Block until a batch is due and return it; None on `close()` or after `timeout`."""
        deadline = None if timeout is None else self._clock() + timeout
        with self._cond:
            while not self._closed:
                now = self._clock()
                batch = self._take_locked(now)
                if batch is not None:
                    return batch
                if deadline is not None and now >= deadline:
                    return None
                bounds = [t for t in (self._due_locked(), deadline) if t is not None]
                # Real-time wait even with an injected clock: the clock only orders events.
                self._cond.wait(max(0.0, min(bounds) - now) if bounds else None)
            return None

    def close(self) -> None:
        """Wake the worker for good: `wait_batch` returns None from now on."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def _due_locked(self) -> float | None:
        return next_due(first_event=self._first, last_event=self._last, timer=self._timer,
                        hold_until=self._hold_until, timing=self._timing)

    def _take_locked(self, now: float) -> Batch | None:
        due = self._due_locked()
        if due is None or due > now:
            return None
        reasons = list(self._reasons)
        if self._timer is not None and self._timer <= now:
            if self._timer_reason not in reasons:
                reasons.append(self._timer_reason)
            self._timer = None
        if self._first is not None:
            self._reasons.clear()
            self._first = self._last = None
        return Batch(reasons=tuple(reasons))
