"""The controller daemon: schedules `sync_once` and wires git, watches, leadership and HTTP to it.

Threads: the HTTP server, the Lease elector, one watch loop per resource, APScheduler's timers
(git poll with jitter, periodic resync) and one worker that runs cycles one at a time from the
debounced queue. The worker runs a cycle only while this replica holds the Lease, and every
write of the cycle passes the fence (`_Fence`), so a replica that loses the Lease, or is
shutting down, stops after the write in progress.
With `--shards N`, shard Leases replace the one Lease (shard_election.py) and each shard's
part of the plan passes that shard's fence (shard_fence.py).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger
from kubernetes import client
from prometheus_client import CollectorRegistry

from reconciler.controller.api_metrics import instrument
from reconciler.controller.cached_cluster import cycle_cluster
from reconciler.controller.caches import WatchCaches
from reconciler.controller.digest import digest
from reconciler.controller.drift_schedule import DriftDaemonSettings, DriftSchedule
from reconciler.controller.fleetmemo import FleetMemo
from reconciler.controller.gitpoll import BranchFollower, RevisionStatus
from reconciler.controller.http import ControllerHttp, WebhookSettings
from reconciler.controller.leader import LeaderTiming, LeaseElector, default_identity
from reconciler.controller.metrics import ControllerMetrics
from reconciler.controller.planmemo import PlanMemo
from reconciler.controller.queue import QueueTiming, WorkQueue
from reconciler.controller.shard_election import ShardElection
from reconciler.controller.shard_fence import ShardedFence, sharded_replica
from reconciler.controller.snapshots import SnapshotPublisher
from reconciler.controller.view import ControllerState
from reconciler.controller.wakeup import next_wakeup
from reconciler.controller.watching import WatchGroup
from reconciler.controller.watchlist import cluster_watches
from reconciler.cycle import SyncSettings, sync_once, utc_now
from reconciler.cycle.outcome import CycleResult, GoodRevision, Outcome
from reconciler.kube.applying import ApplyReport
from reconciler.kube.cluster import LiveCluster
from reconciler.kube.errors import Fenced
from reconciler.kube.session import Session, WriteFence
from reconciler.observed import ClusterFacts
from reconciler.observed.rollouts import RolloutFacts
from reconciler.planner.model import Plan
from reconciler.source import Repository

log = logging.getLogger("edgefleet.controller")

NOT_FETCHED = RevisionStatus(head=None, bad=None, bad_reason=None, last_good=None, fetch_error=None)


@dataclass(frozen=True)
class ControllerSettings:
    """Everything `edgefleet run` was asked for (times in seconds)."""

    repo: str
    branch: str = "main"
    path: str | None = None
    interval: float = 60.0
    resync: float = 600.0
    listen: str = "127.0.0.1:8080"
    webhook_secret: bytes | None = field(default=None, repr=False)  # never printed
    lease_name: str = "edgefleet"
    lease_namespace: str = "default"
    leader: LeaderTiming = field(default_factory=LeaderTiming)
    queue: QueueTiming = field(default_factory=QueueTiming)
    identity: str = field(default_factory=default_identity)
    cache_dir: Path | None = None
    sync: SyncSettings = field(default_factory=SyncSettings)
    # Plan-clock seconds per real second: 1, except against the embedded cluster's fast clock
    # (the demo), where a plan's "look again at" time must become a shorter real timer.
    clock_speed: float = 1.0
    drift: DriftDaemonSettings = field(default_factory=DriftDaemonSettings)  # docs/drift.md
    snapshot_dir: Path | None = None  # publish a fleet snapshot there, served at /snapshot
    snapshot_interval: float = 900.0
    # Plan from the watch loops' caches (docs/controller.md, "Watch caches"); False lists
    # every cycle, as `edgefleet sync` does.
    watch_cache: bool = True
    # Shard Leases (docs/controller.md, "Sharding"); 1: one leader Lease, as without sharding.
    shards: int = 1


class NotLeading(Fenced):
    """A write was refused because this replica does not hold the Lease (or is stopping)."""


def write_fence(may_write: Callable[[], bool], timing: LeaderTiming) -> WriteFence:
    """The fence on every request a leader's cycle writes with.

    A leader still believes it leads up to `renew_deadline` after its last renewal, and a peer
    takes the Lease no sooner than `lease_duration` after it: each attempt must land within
    that window, so its timeout is half of it; `may_write` is asked before every attempt, and
    retries stop after the other half, so stopping waits at most one window for a write.
    """
    half = timing.write_window / 2
    return WriteFence(may_send=may_write, request_timeout=half, budget=half,
                      closed="no longer the leader or stopping")


class _Fence:
    """The cluster as the worker's cycles see it: remembers what `observe` saw, and refuses to
    write unless `may_write()` holds and the leadership term is the one `observe` ran in
    (checked before the apply, before every request attempt and again after every write)."""

    def __init__(self, live: LiveCluster, may_write: Callable[[], bool],
                 timing: LeaderTiming = LeaderTiming(), term: Callable[[], int] = lambda: 0) -> None:
        self._live, self._leading, self._term = live, may_write, term
        self._observed_term: int | None = None
        self.facts: ClusterFacts | None = None
        live.progress = self._after_write
        live.fence = write_fence(self._may_write, timing)

    def _may_write(self) -> bool:
        # Leading now is not enough: the plan comes from what this cycle observed, and a Lease
        # lost and regained meanwhile (A -> B -> A) means another replica may have written since.
        return self._leading() and self._term() == self._observed_term

    def observe(self, *, secrets: Iterable[str] = ()) -> ClusterFacts:
        self._observed_term = self._term()
        self.facts = self._live.observe(secrets=secrets)
        return self.facts

    @property
    def rollouts(self) -> dict[str, RolloutFacts]:
        """The FleetRollouts the last observe read (sync_once plans with them, docs/rollout.md)."""
        return self._live.rollouts

    def apply(self, plan: Plan, *, dry_run: bool) -> ApplyReport:
        if not dry_run and not self._may_write():
            return ApplyReport(dry_run=dry_run, failure=NotLeading("not the leader: wrote nothing"))
        return self._live.apply(plan, dry_run=dry_run)

    def _after_write(self, step: str, done: int, total: int) -> None:
        if done < total and not self._may_write():
            raise NotLeading(f"stopped after {done} of {total} writes: no longer the leader or stopping")


class Controller:
    """One replica of `edgefleet run`. `start()` returns at once; `stop()` shuts down cleanly."""

    def __init__(self, settings: ControllerSettings, session: Session, *,
                 registry: CollectorRegistry | None = None,
                 now: Callable[[], datetime] = utc_now,
                 cycle: Callable[..., CycleResult] = sync_once,
                 open_repository: Callable[[str, Path | None], Repository] = Repository.open) -> None:
        self.settings = settings
        self.session = session
        self.registry = registry if registry is not None else CollectorRegistry()
        self.metrics = ControllerMetrics(self.registry)
        instrument(session.api_client, self.metrics.api_requests)
        self._now, self._cycle = now, cycle
        self.state = ControllerState(repo=settings.repo, branch=settings.branch, path=settings.path or "",
                                     identity=settings.identity, started_at=now())
        self.queue = WorkQueue(settings.queue)
        self.git = BranchFollower(
            settings.repo, settings.branch, settings.path, cache_dir=settings.cache_dir,
            on_new_revision=lambda rev: self.queue.add_now(f"git: new revision {rev[:12]}"),
            open_repository=open_repository)
        self.elector: LeaseElector | ShardElection = LeaseElector(
            client.CoordinationV1Api(session.api_client), name=settings.lease_name,
            namespace=settings.lease_namespace, identity=settings.identity, timing=settings.leader,
            on_started=self._became_leader, on_stopped=self._lost_leadership)
        self.caches = WatchCaches() if settings.watch_cache else None
        self.watches = WatchGroup(cluster_watches(session, self.queue.add, self.state.set_watch,
                                                  self.caches))
        self.snapshots = (SnapshotPublisher(session, settings.snapshot_dir, now)
                          if settings.snapshot_dir is not None else None)
        self.http = ControllerHttp(settings.listen, self.state, self.metrics,
                                   WebhookSettings(settings.webhook_secret, self._on_push),
                                   snapshot_file=self.snapshots.file if self.snapshots else None)
        self._term = 0  # leadership terms won by this replica; a cycle writes only in its own
        self.cluster = cycle_cluster(session, self.caches, full_read_every=settings.resync)
        self._fence: _Fence | ShardedFence = _Fence(self.cluster, self._may_write, settings.leader,
                                                    term=lambda: self._term)
        self._cycle_lock = threading.Lock()  # held by a cycle: shards are handed back between cycles
        if settings.shards > 1:  # a Lease per shard instead of the leader's (docs/controller.md)
            self.elector, self._fence = sharded_replica(
                session, settings, self.cluster, quiet=self._cycle_lock,
                may_write=lambda: not self._stopping.is_set(),
                on_acquired=lambda shard: self._became_leader(),
                on_released=lambda shard: self._lost_leadership())
        self._scheduler = BackgroundScheduler(timezone="UTC")
        self.drift = DriftSchedule(self._scheduler, session, settings.drift, registry=self.registry,
                                   may_report=self._may_report, now=now, planner=settings.sync.planner)
        self.http.add_route(self.drift.serve)
        self._stopping = threading.Event()
        self._worker = threading.Thread(target=self._work, name="reconcile-worker", daemon=True)
        self._pushes: list[threading.Thread] = []  # webhook-triggered fetches (joined on stop)
        self._pushes_lock = threading.Lock()
        self._last_good: GoodRevision | None = None
        self._failures = 0
        self.fleets = FleetMemo()  # an unchanged revision is not parsed again every cycle
        # ... nor planned again while nothing it depends on moved (idle.py)
        self.plans = PlanMemo(remember=settings.watch_cache)
        self.cycle_done = threading.Condition()  # notified after every cycle (tests, demo)

    @property
    def url(self) -> str:
        """Base URL of the HTTP endpoints."""
        return self.http.url

    def start(self) -> None:
        """Serve HTTP, campaign for the Lease, start watches, timers and the worker."""
        self.http.start()
        self.elector.start()
        self.watches.start()
        self._scheduler.add_job(self.git.poll, IntervalTrigger(
            seconds=self.settings.interval, jitter=max(1, int(self.settings.interval * 0.1))),
            id="git-poll", max_instances=1, coalesce=True, next_run_time=datetime.now().astimezone())
        self._scheduler.add_job(self.queue.add, IntervalTrigger(seconds=self.settings.resync),
                                args=["periodic resync"], id="resync", max_instances=1, coalesce=True)
        if self.snapshots is not None:
            self._scheduler.add_job(self.snapshots.publish, IntervalTrigger(
                seconds=self.settings.snapshot_interval), id="snapshot", max_instances=1, coalesce=True,
                next_run_time=datetime.now().astimezone())
        self._scheduler.start()
        self._worker.start()
        log.info("controller %s started: repository %s branch %s, endpoints at %s",
                 self.settings.identity, self.state.snapshot().repo, self.settings.branch, self.url)

    def stop(self, *, release: bool = True, timeout: float = 30.0) -> None:
        """Stop: no new cycle or write; the write in progress finishes; with `release`, the
        Lease is handed back (False simulates a crash: it stays held until it expires).

        The Lease is released only once the worker has ended: if it is still busy after
        `timeout` seconds, the Lease is left to expire, so no peer writes beside it. Git
        fetches and timers end (within `timeout`) before this returns.
        """
        if self._stopping.is_set():
            return
        self._stopping.set()
        self.queue.close()
        if self._scheduler.running:
            self._scheduler.pause()  # no new git poll or resync while we wind down
        self.watches.stop(timeout=2)
        if self._worker.is_alive():
            self._worker.join(timeout=timeout)
        if release and self._worker.is_alive():
            log.warning("controller %s: a cycle is still running after %.0fs; leaving the Lease "
                        "to expire instead of releasing it", self.settings.identity, timeout)
            release = False
        self.elector.stop(release=release)
        self.http.stop()
        # Timers and webhook fetches may be inside a git fetch (bounded by the source's
        # network timeouts): wait for them, so the cache directory can be removed after us.
        if self._scheduler.running:
            waiter = threading.Thread(target=self._scheduler.shutdown, kwargs={"wait": True}, daemon=True)
            waiter.start()
            waiter.join(timeout=timeout)
        with self._pushes_lock:
            pushes = list(self._pushes)
        for push in pushes:
            push.join(timeout=timeout)
        log.info("controller %s stopped%s", self.settings.identity,
                 "" if release else " (Lease not released)")

    def wait_for_cycle(self, predicate: Callable[[], bool], timeout: float) -> bool:
        """Block until `predicate()` holds after some cycle, or `timeout` seconds pass."""
        with self.cycle_done:
            return self.cycle_done.wait_for(predicate, timeout)

    def _may_write(self) -> bool:
        return not self._stopping.is_set() and self.elector.is_leader()

    def _may_report(self) -> bool:  # one drift reporter: the leader, or the holder of shard 0
        if isinstance(self.elector, ShardElection):
            return not self._stopping.is_set() and self.elector.holds(0)
        return self._may_write()

    def _became_leader(self) -> None:
        self._term += 1
        self.plans.forget()  # a new term plans afresh
        self.state.set_leader(True)
        self.metrics.leader.set(1)
        self.queue.add_now("became the leader")

    def _lost_leadership(self) -> None:
        if self.elector.is_leader():
            return  # sharded: another shard is still held
        self.state.set_leader(False)
        self.metrics.leader.set(0)

    def _on_push(self, forge: str) -> None:
        # Fetch off the HTTP thread: the forge wants its answer now, the fetch may take a while.
        push = threading.Thread(target=self.git.poll, name="git-poll-webhook", daemon=True)
        with self._pushes_lock:
            if self._stopping.is_set():
                return
            self._pushes = [t for t in self._pushes if t.is_alive()] + [push]
            push.start()

    def _work(self) -> None:
        while not self._stopping.is_set():
            batch = self.queue.wait_batch()
            if batch is None:
                return
            if not self._may_write():
                continue  # a standby: becoming the leader queues a cycle
            if self.git.status() == NOT_FETCHED:
                continue  # the first fetch is under way; it queues a cycle when it lands
            if self.git.head_is_known_bad():
                continue  # the head is invalid and nothing older loaded: wait for a new commit
            log.info("reconcile: %s", "; ".join(batch.reasons[:5]) + (
                f" (+{len(batch.reasons) - 5} more)" if len(batch.reasons) > 5 else ""))
            with self._cycle_lock:
                self._run_cycle()

    def _run_cycle(self) -> None:
        started = time.monotonic()
        self._fence.facts = None  # what this cycle observes, if it gets that far
        try:
            result = self._cycle(read_revision=self.git.read_revision, cluster=self._fence,
                                 settings=self.settings.sync, last_good=self._last_good, now=self._now,
                                 load=self.fleets, plan_step=self.plans)
        except Exception as error:  # a bug in a cycle must not end the daemon: log it, back off
            log.exception("reconcile cycle failed: %s", error)
            result = CycleResult(Outcome.TRANSIENT, f"internal error: {type(error).__name__}: {error}",
                                 started_at=self._now(), in_force=self._last_good)
        self._last_good = result.in_force
        if result.outcome is Outcome.STALLED and result.applied is None and result.errors:
            self.git.record(result.revision, good=False, reason=result.message)
        elif result.ok and result.in_force is not None:
            self.git.record(result.in_force.revision, good=True)
        view = digest(result, self._fence.facts, self.git.status(),
                      attempt_limit=self.settings.sync.planner.attempt_limit,
                      finished_at=self._now(), duration=time.monotonic() - started,
                      previous=self.state.snapshot().last)
        self.metrics.record_cycle(view)
        self.metrics.rollouts.record(result.plan)  # why work is held back (docs/rollout.md)
        self.state.record_cycle(view)  # last: whoever waits on the state sees the metrics too
        for line in result.warnings:
            if line.startswith("registry"):  # holds and unanswered registries (docs/registry.md)
                log.warning("%s", line)
        if result.in_force is not None:  # what the scheduled drift report is made from
            self.drift.observe_cycle(result.in_force.fleet, result.in_force.revision, self._fence.facts)
        level = logging.INFO if result.ok else logging.WARNING
        log.log(level, "reconcile %s in %.2fs: %s", result.outcome, view.duration, result.message,
                extra={"outcome": str(result.outcome), "revision": view.revision_in_force})
        fenced = result.applied is not None and isinstance(result.applied.failure, Fenced)
        if not fenced:  # stopping or a lost Lease is no failure of the cluster: no more backoff
            self._failures = self._failures + 1 if result.outcome is Outcome.TRANSIENT else 0
        wake = next_wakeup(result, interval=self.settings.resync, failures=max(self._failures - 1, 0),
                           clock_speed=self.settings.clock_speed)
        now = time.monotonic()
        if wake.hold:
            self.queue.hold(now + wake.hold)
        if wake.timer is not None:
            self.queue.set_timer(now + wake.timer, f"after a {result.outcome} cycle")
        with self.cycle_done:
            self.cycle_done.notify_all()
