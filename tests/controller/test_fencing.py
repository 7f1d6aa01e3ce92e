"""Fencing: a replica that lost the Lease (or is stopping) lands no write, not even a retry, and
never hands the Lease over while a write of its own may still be in flight."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from reconciler.controller.daemon import Controller, ControllerSettings, _Fence
from reconciler.controller.leader import LeaderTiming
from reconciler.controller.queue import QueueTiming
from reconciler.cycle.outcome import CycleResult, Outcome
from reconciler.kube.cluster import LiveCluster
from reconciler.kube.crds import install_crds, read_crds
from reconciler.kube.errors import Fenced
from reconciler.kube.session import Session
from reconciler.manifests.fleet import JobPolicy
from reconciler.planner import Counts, Plan, PlannedJob
from reconciler.sim.apiserver.faults import Faults
from reconciler.sim.apiserver.store import Store
from reconciler.source import FleetFiles

V2 = "operations.kubeedge.io/v1alpha2"


def one_job_plan() -> Plan:
    job = PlannedJob(name="ef-line-a", group="line", api_version=V2,
                     images=("docker.io/library/nginx:1.25",), node_names=("edge-000",), secret=None,
                     policy=JobPolicy(), revision="abc", attempt=0)
    return Plan(revision="abc", job_api_version=V2, create=(job,), delete=(), deferred=(),
                inventory_updates=(), groups=(), summary=Counts(), group_total=1)


def test_a_replica_that_loses_the_lease_during_a_retry_backoff_writes_nothing(
        session: Session, store: Store, faults: Faults) -> None:
    install_crds(session, read_crds())
    leading = {"now": True}

    def backoff(seconds: float) -> None:
        leading["now"] = False  # the Lease is lost while the create waits to be retried...
        faults.reset()  # ...and the API server recovers, so a retry would be accepted

    retrying = Session(session.api_client, session.settings, sleep=backoff)
    fence = _Fence(LiveCluster(retrying), lambda: leading["now"])
    fence.observe()
    faults.error_rate, faults.verbs = 1.0, frozenset({"create"})
    report = fence.apply(one_job_plan(), dry_run=False)
    jobs, _, _ = store.list("operations.kubeedge.io", "imageprepulljobs", version="v1alpha2")
    assert jobs == []
    assert report.created == ()
    assert isinstance(report.failure, Fenced)


class OneCommit:
    """A function-shaped stand-in for source.Repository: one branch, one commit, no network."""

    def fetch(self) -> None:
        pass

    def resolve(self, rev: str) -> str:
        return "1" * 40

    def read_fleet(self, rev: str, path: str | None = None) -> FleetFiles:
        return FleetFiles(revision=rev, files={})


def lease_holder(store: Store) -> str:
    lease = store.get("coordination.k8s.io", "leases", "edgefleet", namespace="default")
    return str(lease["spec"].get("holderIdentity") or "")


def test_stop_leaves_the_lease_held_while_a_cycle_may_still_write(
        session: Session, store: Store, tmp_path: Path) -> None:
    entered, release = threading.Event(), threading.Event()

    def slow_cycle(**kwargs: Any) -> CycleResult:
        entered.set()
        release.wait(10)  # a write that is still being retried
        return CycleResult(Outcome.TRANSIENT, "slow", started_at=kwargs["now"]())

    settings = ControllerSettings(
        repo="git://example.invalid/fleet.git", interval=3600, resync=3600, listen="127.0.0.1:0",
        leader=LeaderTiming(lease_duration=3.0, renew_deadline=2.0, retry_period=0.2),
        queue=QueueTiming(debounce=0.05, max_delay=0.2), identity="replica-a", cache_dir=tmp_path)
    controller = Controller(settings, session, cycle=slow_cycle,
                            open_repository=lambda url, cache: OneCommit())  # type: ignore[arg-type,return-value]
    controller.start()
    try:
        assert entered.wait(10)
        controller.stop(release=True, timeout=0.3)
        assert lease_holder(store) == "replica-a"  # not handed to a peer while we may write
    finally:
        release.set()
        controller.stop()



def test_a_cycle_observed_in_an_earlier_leadership_term_writes_nothing(
        session: Session, store: Store) -> None:
    # A -> B -> A: this replica led when it observed, lost the Lease (another replica may have
    # written), then won it back before applying. Its plan is stale: it must not land.
    install_crds(session, read_crds())
    term = {"now": 1}
    fence = _Fence(LiveCluster(session), lambda: True, term=lambda: term["now"])
    fence.observe()
    term["now"] = 2
    report = fence.apply(one_job_plan(), dry_run=False)
    jobs, _, _ = store.list("operations.kubeedge.io", "imageprepulljobs", version="v1alpha2")
    assert jobs == [] and report.created == ()
    assert report.failure is not None
    # In the same term as its observation, the same plan lands.
    fence.observe()
    assert fence.apply(one_job_plan(), dry_run=False).created == ("ef-line-a",)
