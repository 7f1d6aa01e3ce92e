"""When the daemon looks again after a cycle: the outcome -> next wake-up rule.

The delays are the cycle's (`cycle.outcome.wake_after`, the one place outcomes map to time);
this module says how the work queue applies them. Waiting (429) and transient failures *hold*
the queue: no watch event may start a cycle before the delay, or a flapping API server would be
hammered. Progressing sets a *timer* (look again soon even if no event arrives). Converged and
stalled set nothing: watches, the git poll and the periodic resync wake the daemon.
"""

from __future__ import annotations

from dataclasses import dataclass

from reconciler.cycle.outcome import CycleResult, Outcome, wake_after


@dataclass(frozen=True, slots=True)
class Wakeup:
    """Seconds from now: no cycle before `hold`; a cycle at `timer` even without events."""

    hold: float = 0.0
    timer: float | None = None


def next_wakeup(result: CycleResult, *, interval: float, failures: int) -> Wakeup:
    """The wake-up after `result`; `failures` counts transient failures in a row before it."""
    if result.outcome in (Outcome.WAITING, Outcome.TRANSIENT):
        delay = wake_after(result, interval=interval, failures=failures)
        return Wakeup(hold=delay, timer=delay)
    if result.outcome is Outcome.PROGRESSING:
        return Wakeup(timer=wake_after(result, interval=interval, failures=failures))
    return Wakeup()
