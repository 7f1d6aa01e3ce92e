"""Simulation time: a clock that may run faster than real time, and a manual one for tests.

Everything in the simulated KubeEdge reads time through a `Clock`, never from the system, so
a demo can show an hour of fleet life in a minute and tests can step time without sleeping.
"""

from __future__ import annotations

import functools
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """What the simulation needs from a clock."""

    def now(self) -> datetime:
        """The current simulated time (aware, UTC)."""
        ...

    def real_seconds_until(self, when: datetime) -> float:
        """How many real seconds remain until simulated time `when` (0 if it has passed)."""
        ...


def _aware(when: datetime | None) -> datetime:
    if when is None:
        return datetime.now(UTC).replace(microsecond=0)
    if when.tzinfo is None:
        raise ValueError("the clock's start time must be timezone-aware")
    return when.astimezone(UTC)


class SimClock:
    """Simulated time = start + (real seconds elapsed since creation) x speed.

    `speed` is simulated seconds per real second (> 0); `start` defaults to the real time of
    creation, rounded down to the second.
    """

    def __init__(self, speed: float = 1.0, start: datetime | None = None) -> None:
        if speed <= 0:
            raise ValueError(f"clock speed must be > 0, got {speed}")
        self.speed = speed
        self.start = _aware(start)
        self._origin = time.monotonic()

    def now(self) -> datetime:
        return self.start + timedelta(seconds=(time.monotonic() - self._origin) * self.speed)

    def real_seconds_until(self, when: datetime) -> float:
        return max(0.0, (when - self.now()).total_seconds() / self.speed)


class ManualClock:
    """A clock that moves only when told to (`advance`, `set`): for tests, no sleeps."""

    def __init__(self, start: datetime | None = None) -> None:
        self.start = _aware(start) if start is not None else datetime(2025, 7, 1, 8, 0, tzinfo=UTC)
        self._now = self.start
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> datetime:
        """Move time forward by `seconds` (>= 0); returns the new time."""
        if seconds < 0:
            raise ValueError("a clock does not go backwards")
        with self._lock:
            self._now += timedelta(seconds=seconds)
            return self._now

    def set(self, when: datetime) -> None:
        """Jump to `when` (not earlier than now)."""
        with self._lock:
            if when < self._now:
                raise ValueError("a clock does not go backwards")
            self._now = when

    def real_seconds_until(self, when: datetime) -> float:
        # Manual time never passes by itself: the driver must not wait on it.
        return 0.0


@functools.lru_cache(maxsize=4096)
def rfc3339(when: datetime) -> str:
    """The Kubernetes timestamp form: UTC, second precision, literal Z."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_rfc3339(text: str) -> datetime:
    """Parse a Kubernetes timestamp (`...Z` or with an offset) into an aware datetime."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)
