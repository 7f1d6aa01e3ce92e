"""Client-side politeness towards the API server: a QPS token bucket and a retry schedule.

Both read time through injected callables (`clock`, `sleep`) so tests can count requests per
simulated second instead of measuring the wall clock.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

Clock = Callable[[], float]
Sleep = Callable[[float], None]


class TokenBucket:
    """At most `burst` requests at once, then `qps` per second on average.

    `acquire()` blocks (through `sleep`) until a token is free, then takes it. Thread-safe.
    """

    def __init__(self, qps: float, burst: int, *, clock: Clock = time.monotonic,
                 sleep: Sleep = time.sleep) -> None:
        if qps <= 0 or burst < 1:
            raise ValueError(f"need qps > 0 and burst >= 1, got qps={qps} burst={burst}")
        self.qps = qps
        self.burst = burst
        self._clock = clock
        self._sleep = sleep
        self._tokens = float(burst)
        self._last = clock()
        self._lock = threading.Lock()

    def acquire(self) -> None:
        """Take one token, sleeping first if the bucket is empty."""
        with self._lock:
            self._refill()
            if self._tokens < 1.0:
                # Sleeping under the lock keeps callers in arrival order: nobody jumps the queue.
                self._sleep((1.0 - self._tokens) / self.qps)
                self._refill()
            self._tokens -= 1.0

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(float(self.burst), self._tokens + (now - self._last) * self.qps)
        self._last = now


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how long to retry a request the server answered with 429 or 5xx.

    Attempt n (1-based) that fails waits the server's Retry-After when given (capped at
    `max_delay`), else `base_delay * 2**(n-1)` capped at `max_delay`. Deterministic: no jitter,
    so a test can assert the schedule.
    """

    max_attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 30.0

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """Seconds to wait after failed attempt number `attempt` (1-based)."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_delay)
        return float(min(self.base_delay * 2 ** (attempt - 1), self.max_delay))


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds form, as the API server sends), or None."""
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None  # the HTTP-date form: the API server never sends it; fall back to backoff
    return seconds if seconds >= 0 else None
