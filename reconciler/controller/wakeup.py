"""When the daemon looks again after a cycle: the outcome -> next wake-up rule.

The delays are the cycle's (`cycle.outcome.wake_after`, the one place outcomes map to time);
this module says how the work queue applies them. Waiting (429) and transient failures *hold*
the queue: no watch event may start a cycle before the delay, or a flapping API server would be
hammered. Progressing sets a *timer* (look again soon even if no event arrives); so does a
converged cycle whose plan names a time it would change (a finished job's TTL, a retry).
Otherwise watches, the git poll and the periodic resync wake the daemon.
"""

from __future__ import annotations

from dataclasses import dataclass

from reconciler.cycle.outcome import CycleResult, Outcome, wake_after


@dataclass(frozen=True, slots=True)
class Wakeup:
    """Seconds from now: no cycle before `hold`; a cycle at `timer` even without events."""

    hold: float = 0.0
    timer: float | None = None


def next_wakeup(result: CycleResult, *, interval: float, failures: int,
                clock_speed: float = 1.0) -> Wakeup:
    """The wake-up after `result`; `failures` counts transient failures in a row before it;
    `clock_speed` converts the plan's clock into real seconds (see `wake_after`)."""
    delay = wake_after(result, interval=interval, failures=failures, clock_speed=clock_speed)
    if result.outcome in (Outcome.WAITING, Outcome.TRANSIENT):
        return Wakeup(hold=delay, timer=delay)
    if result.outcome is Outcome.PROGRESSING or (
            result.outcome is Outcome.CONVERGED and delay < interval):
        return Wakeup(timer=delay)  # a converged fleet still wakes for a due TTL or retry
    return Wakeup()
