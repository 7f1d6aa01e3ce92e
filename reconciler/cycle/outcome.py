"""The outcome vocabulary of a cycle, and the one place it maps to exit codes and wake-ups.

- converged: nothing to write, in flight or backing off (deferred nodes and pairs past their
  attempt limit are reported, not awaited);
- progressing: writes were made, jobs are still running or failed pairs await a retry;
- stalled: a human must act (invalid revision, a request the server refuses, missing CRDs):
  nothing is retried until the input changes;
- waiting: the API server asked us to slow down (429): retry after its delay;
- transient: git or the API server is unreachable or failing (5xx): back off and retry.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from reconciler.kube.applying import ApplyReport
from reconciler.kube.discovery import DiscoveryError
from reconciler.kube.errors import ApiBusy, ApiRejected, KubeConfigError, KubeError
from reconciler.manifests.fleet import Fleet

if TYPE_CHECKING:
    from reconciler.planner import Plan

#: Backoff of transient failures: 5 s doubling to 5 min.
TRANSIENT_BASE_SECONDS = 5.0
TRANSIENT_CAP_SECONDS = 300.0
#: While jobs run, look again at least this often (the daemon's watches may wake it sooner).
PROGRESS_POLL_SECONDS = 15.0


class Outcome(StrEnum):
    CONVERGED = "converged"
    PROGRESSING = "progressing"
    STALLED = "stalled"
    WAITING = "waiting"
    TRANSIENT = "transient"


@dataclass(frozen=True, slots=True)
class GoodRevision:
    """The last revision that loaded and was applied: it stays in force while newer ones fail."""

    revision: str | None
    fleet: Fleet


@dataclass(frozen=True, slots=True)
class CycleResult:
    """The record of one cycle (what `record` receives and `sync_once` returns).

    `revision` is what this cycle read (None: a plain directory, or reading failed);
    `in_force` is what the next cycle must pass as `last_good`. `plan` and `applied` are None
    when the cycle stopped before them. `message` is one line for logs and status pages.
    """

    outcome: Outcome
    message: str
    started_at: datetime
    finished_at: datetime | None = None
    revision: str | None = None
    in_force: GoodRevision | None = None
    plan: Plan | None = None
    applied: ApplyReport | None = None
    errors: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    retry_after: float | None = None

    @property
    def ok(self) -> bool:
        """Converged or progressing: the cycle did what it could."""
        return self.outcome in (Outcome.CONVERGED, Outcome.PROGRESSING)


def classify(error: KubeError) -> tuple[Outcome, float | None]:
    """The outcome an adapter error stands for, and the server's retry delay if it gave one."""
    if isinstance(error, ApiBusy):
        return Outcome.WAITING, error.retry_after
    if isinstance(error, KubeConfigError | DiscoveryError | ApiRejected):
        return Outcome.STALLED, None
    return Outcome.TRANSIENT, None


def outcome_of_apply(plan: Plan, applied: ApplyReport) -> tuple[Outcome, str, float | None]:
    """(outcome, one-line message, retry delay) of a cycle that planned and applied."""
    if applied.failure is not None:
        outcome, retry_after = classify(applied.failure)
        return outcome, f"apply stopped after {applied.writes} writes: {applied.failure}", retry_after
    verb = "would write" if applied.dry_run else "wrote"
    s = plan.summary
    pairs = (f"pairs: {s.pairs_present} of {s.pairs_desired} present, {s.pairs_in_flight} in "
             f"flight, {s.pairs_missing} missing, {s.pairs_backing_off} backing off, "
             f"{s.pairs_failed} failed")
    busy = applied.writes or applied.conflicts or applied.unwritten or plan.create or s.pairs_in_flight
    if busy or s.pairs_backing_off:
        # Backing-off pairs are still on their way: a later cycle retries them.
        return Outcome.PROGRESSING, (f"{verb} {len(applied.created)} jobs, deleted "
                                     f"{len(applied.deleted)}, recorded {len(applied.inventories)} "
                                     f"inventories{_unwritten(applied)}; {pairs}"), None
    return Outcome.CONVERGED, f"converged; {pairs}", None


def _unwritten(applied: ApplyReport) -> str:
    n = len(applied.unwritten)
    return f" ({n} failed after retries, next cycle)" if n else ""


def exit_code(outcome: Outcome) -> int:
    """`edgefleet sync` exit code: 0 converged or progressing, 1 anything a user must look at."""
    return 0 if outcome in (Outcome.CONVERGED, Outcome.PROGRESSING) else 1


def wake_after(result: CycleResult, *, interval: float, failures: int = 0,
               clock_speed: float = 1.0) -> float:
    """Seconds until the daemon's next cycle after `result`.

    `interval` is the configured resync period (an upper bound); `failures` the number of
    transient failures in a row before this one (backoff exponent); `clock_speed` the plan
    clock's seconds per real second (1 but in the embedded cluster's fast demos). While writes
    were made or pairs are in flight, look again within PROGRESS_POLL_SECONDS; otherwise wake
    when the plan says it would next change (a retry falls due, a TTL or a stuck deadline
    passes): never poll a fleet whose only work is a backoff hours away.
    """
    if result.outcome is Outcome.WAITING:
        return max(result.retry_after or TRANSIENT_BASE_SECONDS, 1.0)
    if result.outcome is Outcome.TRANSIENT:
        return float(min(TRANSIENT_BASE_SECONDS * 2.0 ** min(failures, 16), TRANSIENT_CAP_SECONDS))
    delay = interval
    revisit = revisit_in(result)
    if revisit is not None and result.outcome in (Outcome.CONVERGED, Outcome.PROGRESSING):
        delay = min(delay, max(revisit / max(clock_speed, 1e-9), 1.0))
    if result.outcome is Outcome.PROGRESSING and _busy(result):
        delay = min(delay, PROGRESS_POLL_SECONDS)
    return delay


def revisit_in(result: CycleResult) -> float | None:
    """Plan-clock seconds from the end of the cycle to its plan's `revisit_at`, or None."""
    plan = result.plan
    if plan is None or plan.revisit_at is None or result.finished_at is None:
        return None
    return max((plan.revisit_at - result.finished_at).total_seconds(), 0.0)


def _busy(result: CycleResult) -> bool:
    """Writes were made or jobs are running: their progress is worth following closely (also
    when the result carries no plan to tell: the safe side)."""
    applied, plan = result.applied, result.plan
    if plan is None:
        return True
    wrote = applied is not None and bool(applied.writes or applied.conflicts or applied.unwritten)
    return wrote or bool(plan.create or plan.summary.pairs_in_flight)
