"""The embedded cluster the chaos runs use (reconciler.sim.fleet_setup): simulated KubeEdge edge
nodes, edgefleet's CRDs, every pull secret of fleet-examples/, the example fleet served by
`git daemon`, one unmanaged job (someone else's, that edgefleet must never delete) and a
`JobLedger` on the store."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from chaos.ledger import JobLedger
from reconciler.cli.demo_git import ServedFleetRepository
from reconciler.controller.daemon import Controller, ControllerSettings
from reconciler.controller.leader import LeaderTiming
from reconciler.controller.queue import QueueTiming
from reconciler.kube.session import Session
from reconciler.sim.cluster import EmbeddedCluster
from reconciler.sim.fleet_setup import edgefleet_cluster, pull_secrets_of
from reconciler.sim.kubeedge.fleetgen import FleetOptions

FLEET_EXAMPLES = Path(__file__).resolve().parents[1] / "fleet-examples"
UNMANAGED_JOB = "ops-manual-prepull"
# client-go's timings (15 s lease, 10 s renew deadline, 2 s retry): with 200 ms latency and
# 15 % of requests refused, a shorter Lease is lost to the faults themselves, not to a crash.
LEASE = LeaderTiming()


@dataclass
class ChaosFleet:
    cluster: EmbeddedCluster
    kubeconfig: Path
    repo: ServedFleetRepository
    ledger: JobLedger
    tmp: Path

    def controller(self, identity: str = "chaos-a", **changes: Any) -> tuple[Controller, Session]:
        """A started in-process controller (stop it, then close the session)."""
        settings = ControllerSettings(
            repo=self.repo.url, interval=1.0, resync=3600.0, listen="127.0.0.1:0", leader=LEASE,
            queue=QueueTiming(debounce=0.2, max_delay=1.0), identity=identity,
            cache_dir=self.tmp / f"cache-{identity}")
        settings = replace(settings, **changes)
        session = Session.from_kubeconfig(self.kubeconfig)
        controller = Controller(settings, session, now=self.cluster.clock.now)
        controller.start()
        return controller, session


@contextmanager
def chaos_fleet(tmp: Path, *, nodes: int, speed: float, seed: int) -> Iterator[ChaosFleet]:
    """The environment above; everything stops (threads joined, git daemon ended) on exit."""
    options = FleetOptions(nodes=nodes, seed=seed, offline=0.0, flapping=0.0, silent=0.0, slow=0.0)
    kubeconfig = tmp / "kubeconfig"
    tmp.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        cluster = stack.enter_context(edgefleet_cluster(
            kubeconfig, pull_secrets=pull_secrets_of(FLEET_EXAMPLES), nodes=nodes, speed=speed,
            seed=seed, fleet=options))
        ledger = JobLedger(cluster.clock.now)
        stack.callback(cluster.store.subscribe(ledger))
        first = cluster.edge_names()[0]
        cluster.store.create("operations.kubeedge.io", "imageprepulljobs", {
            "apiVersion": cluster.job_api_version, "kind": "ImagePrePullJob",
            "metadata": {"name": UNMANAGED_JOB, "labels": {"team": "ops"}},
            "spec": {"imagePrePullTemplate": {"images": ["eclipse-mosquitto:1.6.15"],
                                              "nodeNames": [first]}}})
        repo = stack.enter_context(ServedFleetRepository(tmp / "git", FLEET_EXAMPLES))
        yield ChaosFleet(cluster, kubeconfig, repo, ledger, tmp)


def wait_until(predicate: Callable[[], bool], timeout: float, interval: float = 0.1) -> bool:
    """Poll `predicate` until it holds or `timeout` seconds pass; returns its last value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


def converged(controller: Controller) -> bool:
    """The controller's last cycle succeeded and left nothing it can do now: no job in flight
    or to create in any group (a pair still backing off after failed pulls waits for its time;
    a few simulated nodes fail pulls on purpose, and their backoff runs for simulated hours)."""
    last = controller.state.snapshot().last
    return (last is not None and last.succeeded and not last.jobs_in_flight
            and all(g.converged for g in last.groups))
