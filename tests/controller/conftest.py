"""Fixtures of the controller tests: the embedded API server and a client session on it."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from reconciler.cli.demo_git import ServedFleetRepository
from reconciler.controller.daemon import Controller, ControllerSettings
from reconciler.controller.leader import LeaderTiming
from reconciler.controller.queue import QueueTiming
from reconciler.kube.session import Session
from reconciler.sim.apiserver.faults import Faults
from reconciler.sim.apiserver.server import ApiServer
from reconciler.sim.apiserver.store import Store
from reconciler.sim.cluster import EmbeddedCluster
from reconciler.sim.fleet_setup import edgefleet_cluster, pull_secrets_of
from reconciler.sim.kubeedge.fleetgen import FleetOptions
from reconciler.sim.served import new_store


@pytest.fixture
def faults() -> Faults:
    return Faults(seed=7)


@pytest.fixture
def store() -> Store:
    return new_store("1.21")


@pytest.fixture
def api_server(store: Store, faults: Faults) -> Iterator[ApiServer]:
    with ApiServer(store, faults=faults) as server:
        yield server


@pytest.fixture
def kubeconfig(api_server: ApiServer, tmp_path: Path) -> Path:
    return api_server.write_kubeconfig(tmp_path / "kubeconfig")


@pytest.fixture
def session(kubeconfig: Path) -> Iterator[Session]:
    session = Session.from_kubeconfig(kubeconfig)
    yield session
    session.close()


def edge_node(name: str, *, group: str = "shanghai", ready: bool = True, **labels: str) -> dict[str, Any]:
    """A minimal KubeEdge edge Node object."""
    return {
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": name, "labels": {"node-role.kubernetes.io/edge": "",
                                              "apps.kubeedge.io/belonging-to": group, **labels}},
        "status": {"conditions": [{"type": "Ready", "status": "True" if ready else "False",
                                   "lastHeartbeatTime": "2026-01-01T00:00:00Z"}]},
    }


# ----- the whole loop: embedded cluster (simulated KubeEdge) + fleet-examples behind git daemon -----

REPO_ROOT = Path(__file__).resolve().parents[2]
FLEET_EXAMPLES = REPO_ROOT / "fleet-examples"
WEBHOOK_SECRET = b"controller-test-secret"
# A 2 s write window (lease duration - renew deadline): each write attempt gets 1 s, more than
# the latency some tests inject (see daemon.write_fence).
FAST_LEASE = LeaderTiming(lease_duration=3.5, renew_deadline=1.5, retry_period=0.2)
PULL_SECRETS = pull_secrets_of(FLEET_EXAMPLES)


@dataclass
class FleetEnv:
    """A running embedded cluster with edgefleet's CRDs, and the example fleet served by git."""

    cluster: EmbeddedCluster
    kubeconfig: Path
    repo: ServedFleetRepository
    tmp: Path

    def session(self) -> Session:
        return Session.from_kubeconfig(self.kubeconfig)

    def managed_jobs(self) -> list[dict[str, Any]]:
        items, _, _ = self.cluster.store.list("operations.kubeedge.io", "imageprepulljobs",
                                              label_selector="app.kubernetes.io/managed-by=edgefleet")
        return items


@contextmanager
def served_fleet(tmp_path: Path, *, speed: float, seed: int) -> Iterator[FleetEnv]:
    """30 well-behaved edge nodes with every pull secret of fleet-examples/, edgefleet's CRDs
    installed, and fleet-examples/ committed and served by `git daemon`."""
    options = FleetOptions(nodes=30, seed=seed, offline=0.0, flapping=0.0, silent=0.0, slow=0.0)
    kubeconfig = tmp_path / "kubeconfig"
    with ExitStack() as stack:
        cluster = stack.enter_context(edgefleet_cluster(
            kubeconfig, pull_secrets=PULL_SECRETS, nodes=30, speed=speed, seed=seed, fleet=options))
        repo = stack.enter_context(ServedFleetRepository(tmp_path / "git", FLEET_EXAMPLES))
        yield FleetEnv(cluster, kubeconfig, repo, tmp_path)


@pytest.fixture
def fleet_env(tmp_path: Path) -> Iterator[FleetEnv]:
    """The served fleet with an hour of fleet life per real minute."""
    with served_fleet(tmp_path, speed=60, seed=5) as env:
        yield env


@pytest.fixture
def start_controller(fleet_env: FleetEnv) -> Iterator[Callable[..., Controller]]:
    """Start in-process controllers on `fleet_env` (each with its own session); all are stopped
    (releasing their Lease) at the end unless the test stopped them."""
    started: list[tuple[Controller, Session]] = []

    def start(identity: str = "replica-a", **changes: Any) -> Controller:
        settings = ControllerSettings(
            repo=fleet_env.repo.url, interval=3600.0, resync=3600.0, listen="127.0.0.1:0",
            webhook_secret=WEBHOOK_SECRET, lease_name="edgefleet", lease_namespace="default",
            leader=FAST_LEASE, queue=QueueTiming(debounce=0.2, max_delay=1.0), identity=identity,
            cache_dir=fleet_env.tmp / f"cache-{identity}")
        session = fleet_env.session()
        controller = Controller(replace(settings, **changes), session, now=fleet_env.cluster.clock.now)
        controller.start()
        started.append((controller, session))
        return controller

    yield start
    for controller, session in started:
        controller.stop()
        session.close()


def wait_until(predicate: Callable[[], bool], timeout: float, interval: float = 0.05) -> bool:
    """Poll `predicate` until it holds or `timeout` seconds pass; returns its last value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()
