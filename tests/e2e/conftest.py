"""The end-to-end bed: the embedded KubeEdge cluster over real HTTP (official client), a fleet
repository served by `git daemon`, and `sync_once` driven on the cluster's manual clock, so
edge pulls, timeouts and TTLs pass in simulated time without sleeping."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from reconciler.cycle import CycleResult, GoodRevision, SyncSettings, sync_once
from reconciler.kube.cluster import LiveCluster
from reconciler.kube.crds import install_crds, read_crds
from reconciler.kube.session import Session
from reconciler.planner import PlannerSettings
from reconciler.sim.clock import ManualClock
from reconciler.sim.cluster import EmbeddedCluster
from reconciler.sim.kubeedge.fleetgen import FleetOptions
from reconciler.source import FleetFiles, Repository
from tests.fleetrepo import FleetRepo
from tests.gitserve import serve_git_daemon

REPO_ROOT = Path(__file__).resolve().parents[2]
UPSTREAM_CRDS = REPO_ROOT.parent / "shared" / "kubeedge-crds"
JOB_GROUP, JOB_PLURAL = "operations.kubeedge.io", "imageprepulljobs"
INVENTORIES = ("edgefleet.io", "edgenodeinventories")

MOSQUITTO = "docker.io/library/eclipse-mosquitto:2.0.18"
AGENT_V1 = "registry.example.com/e2e/line-agent:1.0.0"  # in no generated image store
AGENT_V2 = "registry.example.com/e2e/line-agent:1.1.0"



def fleet_config(concurrency: int = 4, max_nodes_per_job: int = 100) -> bytes:
    return f"""\
apiVersion: edgefleet.io/v1alpha1
kind: FleetConfig
metadata: {{name: fleet}}
spec:
  defaults:
    concurrency: {concurrency}
    timeoutSeconds: 300
    retryTimes: 0
    failureTolerate: "1"
    maxNodesPerJob: {max_nodes_per_job}
""".encode()


def group_file(*images: str, secret: str | None = None) -> bytes:
    """The one group of the test fleet: NodeGroup line-a, these images."""
    lines = [
        "apiVersion: edgefleet.io/v1alpha1",
        "kind: NodeGroupImages",
        "metadata: {name: line}",
        "spec:",
        "  nodes: {nodeGroup: line-a}",
        "  images:",
        *[f"    - {image}" for image in images],
    ]
    if secret:
        lines.append(f"  imageSecret: {secret}")
    return ("\n".join(lines) + "\n").encode()


def fleet_files(*images: str, secret: str | None = None, concurrency: int = 4,
                max_nodes_per_job: int = 100) -> dict[str, bytes]:
    return {"fleet.yaml": fleet_config(concurrency, max_nodes_per_job),
            "groups/line.yaml": group_file(*images, secret=secret)}


#: Fast GC and stuck detection so a test sees them within a few simulated hours.
TEST_PLANNER = PlannerSettings(ttl_after_finished=timedelta(minutes=10), keep_newest=0,
                               stuck_grace=timedelta(minutes=2), pending_grace=timedelta(minutes=10))


@dataclass
class Bed:
    """One cluster, one served fleet repository, and the state the daemon would keep between
    cycles (only `last_good`: everything else is re-read from git and the cluster)."""

    cluster: EmbeddedCluster
    session: Session
    repo: FleetRepo
    source: Repository
    settings: SyncSettings = field(default_factory=lambda: SyncSettings(planner=TEST_PLANNER))
    last_good: GoodRevision | None = None

    @property
    def job_version(self) -> str:
        return self.cluster.job_api_version  # "v1alpha2" or "v1alpha1"

    def read_main(self) -> FleetFiles:
        self.source.fetch()
        return self.source.read_fleet("main")

    def sync(self, *, dry_run: bool = False) -> CycleResult:
        """One cycle at the cluster's simulated time; keeps `in_force` as the daemon would."""
        settings = SyncSettings(planner=self.settings.planner, dry_run=dry_run)
        result = sync_once(read_revision=self.read_main, cluster=LiveCluster(self.session),
                           settings=settings, last_good=self.last_good, now=self.cluster.clock.now)
        self.last_good = result.in_force
        return result

    def converge(self, *, cycles: int = 12, step: float = 120.0) -> list[CycleResult]:
        """Sync, let the edge work for `step` simulated seconds, repeat until a cycle converges."""
        results: list[CycleResult] = []
        for _ in range(cycles):
            results.append(self.sync())
            if results[-1].outcome == "converged":
                return results
            self.cluster.advance(step)
        raise AssertionError(f"not converged after {cycles} cycles: {results[-1].message}")

    def jobs(self) -> dict[str, dict[str, Any]]:
        items, _, _ = self.cluster.store.list(JOB_GROUP, JOB_PLURAL, version=self.job_version)
        return {i["metadata"]["name"]: i for i in items if not i["metadata"].get("deletionTimestamp")}

    def inventory(self, node: str) -> dict[str, Any]:
        return self.cluster.store.get(*INVENTORIES, node)


def quiet_fleet(nodes: int) -> FleetOptions:
    """One site (NodeGroup line-a), no random misbehaviour: tests switch behaviours explicitly."""
    return FleetOptions(nodes=nodes, sites=("line-a",), node_group_sites=("line-a",), named_nodes=(),
                        control_plane=1, offline=0, flapping=0, silent=0, slow=0,
                        images_min=3, images_max=5)


@pytest.fixture(params=["1.21", "1.16"])
def kubeedge(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def served_repo(tmp_path: Path) -> Iterator[tuple[FleetRepo, str]]:
    repo = FleetRepo(tmp_path / "served" / "fleet.git")
    repo.commit(fleet_files(MOSQUITTO, AGENT_V1), "Line A: mosquitto and the telemetry agent")
    with serve_git_daemon(tmp_path / "served") as url:
        yield repo, f"{url}/fleet.git"


def make_bed(kubeedge: str, tmp_path: Path, served: tuple[FleetRepo, str], *, nodes: int = 6,
             **cluster_args: Any) -> Iterator[Bed]:
    repo, url = served
    with EmbeddedCluster(nodes=nodes, kubeedge=kubeedge, clock=ManualClock(), seed=2,
                         fleet=quiet_fleet(nodes), heartbeat_seconds=60.0, **cluster_args) as cluster:
        session = Session.from_kubeconfig(cluster.write_kubeconfig(tmp_path / "kubeconfig"))
        install_crds(session, read_crds())
        source = Repository.open(url, cache_dir=tmp_path / "cache")
        try:
            yield Bed(cluster, session, repo, source)
        finally:
            session.close()


@pytest.fixture
def bed(kubeedge: str, tmp_path: Path, served_repo: tuple[FleetRepo, str]) -> Iterator[Bed]:
    yield from make_bed(kubeedge, tmp_path, served_repo)
