"""The cluster as a sharded replica's cycles see it: the whole fleet is observed and planned (so
every replica's plan is the one a single leader would make), and only the parts of the shards
this replica holds are written, each behind its own shard Lease.

A part is written only while its shard is held in the term the cycle observed in (checked
before the part, before every request attempt and after every write, as the single-Lease
fence does), so a replica that loses a shard stops writing that shard's groups after the
write in progress, and a write can land no later than the lease's write window.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from functools import partial
from typing import Protocol

from kubernetes import client

from reconciler.controller.leader import LeaderTiming
from reconciler.controller.shard_election import ShardElection
from reconciler.controller.sharding import split_plan
from reconciler.kube.applying import ApplyReport
from reconciler.kube.cluster import LiveCluster
from reconciler.kube.errors import Fenced
from reconciler.kube.session import Session, WriteFence
from reconciler.observed import ClusterFacts
from reconciler.observed.rollouts import RolloutFacts
from reconciler.planner.model import Plan

#: Each replica reads every shard Lease every retry period: keep N small (a shard is a unit
#: of failover, not of load; docs/controller.md, "Sharding").
MAX_SHARDS = 64


class NotHolding(Fenced):
    """A write was refused because this replica does not hold the shard's Lease (or is stopping)."""


def shard_write_fence(may_write: Callable[[], bool], timing: LeaderTiming, shard: int) -> WriteFence:
    """The fence of one shard's writes, bounded as the single Lease's (daemon.write_fence):
    each attempt and the retries each get half of the write window."""
    half = timing.write_window / 2
    return WriteFence(may_send=may_write, request_timeout=half, budget=half,
                      closed=f"no longer holds shard {shard} or stopping")


class ShardedFence:
    """Same interface as the daemon's single-Lease fence: `observe`, `rollouts`, `apply`, `facts`."""

    def __init__(self, live: LiveCluster, election: ShardElection, may_write: Callable[[], bool],
                 timing: LeaderTiming) -> None:
        self._live, self._election, self._running, self._timing = live, election, may_write, timing
        self._observed_terms: list[int] = []
        self.facts: ClusterFacts | None = None
        self.parts_written = 0  # per-shard parts applied (tests, logs)

    def _may_write(self, shard: int) -> bool:
        return (self._running() and self._election.holds(shard)
                and shard < len(self._observed_terms)
                and self._election.term(shard) == self._observed_terms[shard])

    def observe(self, *, secrets: Iterable[str] = ()) -> ClusterFacts:
        self._observed_terms = [self._election.term(i) for i in range(self._election.shards)]
        self.facts = self._live.observe(secrets=secrets)
        return self.facts

    @property
    def rollouts(self) -> dict[str, RolloutFacts]:
        """The FleetRollouts the last observe read."""
        return self._live.rollouts

    def apply(self, plan: Plan, *, dry_run: bool) -> ApplyReport:
        """Apply the parts of `plan` of the shards held (all of them with `dry_run`), one
        after the other, each fenced by its shard; stop at the first part that fails."""
        shards = self._election.shards
        held = range(shards) if dry_run else [i for i in range(shards) if self._may_write(i)]
        if not held:
            return ApplyReport(dry_run=dry_run, failure=NotHolding("holds no shard: wrote nothing"))
        jobs = self.facts.jobs if self.facts is not None else ()
        reports: list[ApplyReport] = []
        for shard, part in split_plan(plan, jobs, shards, held).items():
            if not (part.create or part.delete or part.inventory_updates or part.rollouts):
                continue
            self._live.fence = shard_write_fence(partial(self._may_write, shard), self._timing, shard)
            self._live.progress = self._guard(shard)
            if not dry_run and not self._may_write(shard):
                reports.append(ApplyReport(dry_run=dry_run, failure=NotHolding(
                    f"no longer holds shard {shard}: wrote nothing of it")))
                break
            report = self._live.apply(part, dry_run=dry_run)
            self.parts_written += 1
            reports.append(report)
            if report.failure is not None:
                break
        return merge_reports(reports, dry_run=dry_run)

    def _guard(self, shard: int) -> Callable[[str, int, int], None]:
        def after_write(step: str, done: int, total: int) -> None:
            if done < total and not self._may_write(shard):
                raise NotHolding(f"stopped after {done} of {total} writes: no longer holds shard "
                                 f"{shard} or stopping")
        return after_write


def merge_reports(reports: list[ApplyReport], *, dry_run: bool) -> ApplyReport:
    """One report of several parts' applies (the first failure stops, so it is the last)."""
    def joined(field: str) -> tuple[str, ...]:
        return tuple(name for r in reports for name in getattr(r, field))

    return ApplyReport(
        dry_run=dry_run, created=joined("created"), already_existed=joined("already_existed"),
        deleted=joined("deleted"), already_gone=joined("already_gone"),
        inventories=joined("inventories"), conflicts=joined("conflicts"),
        unwritten=joined("unwritten"),
        failure=next((r.failure for r in reports if r.failure is not None), None))


class ShardSettings(Protocol):
    """What `sharded_replica` reads of the daemon's ControllerSettings."""

    @property
    def shards(self) -> int: ...
    @property
    def lease_name(self) -> str: ...
    @property
    def lease_namespace(self) -> str: ...
    @property
    def identity(self) -> str: ...
    @property
    def leader(self) -> LeaderTiming: ...


def sharded_replica(session: Session, settings: ShardSettings, live: LiveCluster, *, quiet: threading.Lock,
                    may_write: Callable[[], bool], on_acquired: Callable[[int], None],
                    on_released: Callable[[int], None]) -> tuple[ShardElection, ShardedFence]:
    """The shard election and the fence of a replica of `edgefleet run --shards N` (N > 1)."""
    if settings.shards > MAX_SHARDS:
        raise ValueError(f"--shards {settings.shards}: at most {MAX_SHARDS} shards")
    # Name the replica in every request it sends, so API server audit logs tell who wrote what.
    session.api_client.user_agent = f"edgefleet/{settings.identity}"
    election = ShardElection(
        client.CoordinationV1Api(session.api_client), shards=settings.shards, name=settings.lease_name,
        namespace=settings.lease_namespace, identity=settings.identity, timing=settings.leader,
        quiet=quiet, on_acquired=on_acquired, on_released=on_released)
    return election, ShardedFence(live, election, may_write, settings.leader)
