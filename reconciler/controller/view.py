"""What the controller knows about the fleet, for people (/status, logs) and Prometheus.

`CycleView` is the digest of one reconcile cycle: frozen, plain data, built by the daemon from
the cycle's outcome. `ControllerState` is the one mutable, thread-safe place where the worker
publishes it and the HTTP handlers read it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from datetime import datetime
from urllib.parse import urlsplit, urlunsplit

SUCCESS_OUTCOMES = ("converged", "progressing")


@dataclass(frozen=True, slots=True)
class GroupView:
    """Convergence of one node group in (node, image) pairs, as the last plan counted them.

    `missing` includes pairs waiting for deferred (not Ready) nodes; `pending_jobs` is how many
    jobs the last plan created for the group.
    """

    name: str
    desired: int
    present: int
    missing: int
    in_flight: int = 0
    backing_off: int = 0
    failed: int = 0
    deferred_nodes: int = 0
    pending_jobs: int = 0
    suspended: bool = False

    @property
    def converged(self) -> bool:
        """Nothing left that edgefleet can do now: no job in flight or to create. What remains
        waits for deferred nodes, for a retry after backoff, or failed for good (reported)."""
        return self.in_flight == 0 and self.pending_jobs == 0

    @property
    def state(self) -> str:
        """A few words for people: suspended, converging, retrying (converged but failed pulls
        wait for their backoff) or converged; "converged, N failed" when pairs failed for good,
        so that a group with failures never reads as done. The first word is `phase`."""
        if self.suspended:
            return "suspended"
        if not self.converged:
            return "converging"
        if self.backing_off:
            return "retrying"
        return f"converged, {self.failed:,} failed" if self.failed else "converged"

    @property
    def phase(self) -> str:
        """The first word of `state` alone (for styles and machine-readable attributes)."""
        return self.state.partition(",")[0]

    @property
    def percent(self) -> float:
        """Present pairs as a percentage of desired ones (100 when nothing is desired)."""
        return 100.0 if self.desired == 0 else 100.0 * self.present / self.desired


@dataclass(frozen=True, slots=True)
class JobView:
    """A managed ImagePrePullJob that has not finished."""

    name: str
    group: str
    phase: str
    nodes: int
    images: int


@dataclass(frozen=True, slots=True)
class NodeNote:
    """A node the plan did not target, or a pair that keeps failing, and why."""

    node: str
    reason: str
    image: str = ""
    attempts: int = 0


@dataclass(frozen=True, slots=True)
class CycleView:
    """The digest of one finished reconcile cycle."""

    outcome: str  # converged | progressing | waiting | transient | stalled (cycle/outcome.py)
    message: str
    finished_at: datetime
    duration: float
    revision_in_force: str | None = None  # the revision whose fleet the cycle applied
    revision_seen: str | None = None  # the newest revision fetched (may have failed to load)
    revision_error: str | None = None  # why revision_seen is not in force
    groups: tuple[GroupView, ...] = ()
    jobs_by_phase: tuple[tuple[str, int], ...] = ()
    jobs_in_flight: tuple[JobView, ...] = ()
    jobs_created: int = 0
    jobs_deleted: int = 0
    deferred: tuple[NodeNote, ...] = ()
    failing: tuple[NodeNote, ...] = ()
    agent: tuple[tuple[str, int], ...] = ()  # the plan's edge agent counts (docs/agent.md)

    @property
    def converged(self) -> bool:
        """The cycle found nothing to do and every group converged (the demo's and tests'
        notion of done: deferred nodes and pairs that failed for good are reported only)."""
        return self.outcome == "converged" and all(g.converged for g in self.groups)

    @property
    def succeeded(self) -> bool:
        """The cycle did what it could (converged or progressing)."""
        return self.outcome in SUCCESS_OUTCOMES


def redact_url(url: str) -> str:
    """`url` without user:password, so a token in a clone URL never reaches a log or a page."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))


@dataclass(frozen=True, slots=True)
class ControllerSnapshot:
    """A consistent copy of the controller's state at one moment."""

    repo: str
    branch: str
    path: str
    identity: str
    started_at: datetime
    leader: bool = False
    ready: bool = False
    last_success: datetime | None = None
    cycles: int = 0
    last: CycleView | None = None
    watches: tuple[tuple[str, str], ...] = ()  # (resource, state)


class ControllerState:
    """Thread-safe holder of the latest snapshot (writers replace it; readers copy it)."""

    def __init__(self, *, repo: str, branch: str, path: str, identity: str, started_at: datetime) -> None:
        self._lock = threading.Lock()
        self._snapshot = ControllerSnapshot(repo=redact_url(repo), branch=branch, path=path,
                                            identity=identity, started_at=started_at)
        self._watches: dict[str, str] = {}

    def snapshot(self) -> ControllerSnapshot:
        """The current state (immutable)."""
        with self._lock:
            return replace(self._snapshot, watches=tuple(sorted(self._watches.items())))

    def record_cycle(self, view: CycleView) -> None:
        """Publish a finished cycle; the controller is ready once one cycle succeeded."""
        with self._lock:
            ok = view.succeeded
            self._snapshot = replace(
                self._snapshot, last=view, cycles=self._snapshot.cycles + 1,
                ready=self._snapshot.ready or ok,
                last_success=view.finished_at if ok else self._snapshot.last_success)

    def set_leader(self, leader: bool) -> None:
        with self._lock:
            self._snapshot = replace(self._snapshot, leader=leader)

    def set_watch(self, resource: str, state: str) -> None:
        with self._lock:
            self._watches[resource] = state

