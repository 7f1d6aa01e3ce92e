"""Watch caches against the embedded API server: an idle cycle sends nothing, a cycle planned
while the caches lag behind its own writes creates no job twice (write expectations)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from reconciler.cli.demo_git import ServedFleetRepository
from reconciler.controller.cached_cluster import CachedCluster
from reconciler.controller.caches import WatchCaches
from reconciler.controller.daemon import Controller, ControllerSettings
from reconciler.controller.queue import QueueTiming
from reconciler.controller.watching import WatchGroup
from reconciler.controller.watchlist import cluster_watches
from reconciler.cycle import SyncSettings, sync_once
from reconciler.cycle.outcome import CycleResult
from reconciler.kube.applying import ApplyReport
from reconciler.kube.cluster import LiveCluster
from reconciler.kube.crds import install_crds, read_crds
from reconciler.kube.session import Session
from reconciler.planner.model import Plan
from reconciler.sim.apiserver.faults import Faults
from reconciler.sim.apiserver.server import ApiServer
from reconciler.sim.apiserver.store import Store
from reconciler.source import read_worktree
from tests.controller.conftest import FAST_LEASE, edge_node, wait_until

JOBS = "imageprepulljobs"
NOT_CYCLE_REQUESTS = frozenset({"leases"})  # the Lease elector renews on its own timer
IMAGE = "registry.example.com/shop/pos:1.0"
NODES = [f"shop-{i:02d}" for i in range(6)]


def write_fleet(root: Path) -> Path:
    """One group of six named nodes that must hold one image."""
    (root / "groups").mkdir(parents=True)
    (root / "groups" / "shops.yaml").write_text(
        "apiVersion: edgefleet.io/v1alpha1\nkind: NodeGroupImages\nmetadata: {name: shops}\n"
        f"spec:\n  nodes: {{names: [{', '.join(NODES)}]}}\n  images: [{IMAGE}]\n")
    return root


def shop_node(name: str, *, holds: bool) -> dict[str, Any]:
    node = edge_node(name, group="shops")
    if holds:
        node["status"]["images"] = [{"names": [IMAGE], "sizeBytes": 1000}]
    return node


@pytest.fixture
def crds(session: Session) -> Session:
    install_crds(session, read_crds())
    return session


def test_an_idle_cycle_sends_no_request_and_writes_nothing(
        tmp_path: Path, store: Store, api_server: ApiServer, kubeconfig: Path, crds: Session) -> None:
    for name in NODES:
        store.create("", "nodes", shop_node(name, holds=True))
    with ServedFleetRepository(tmp_path / "git", write_fleet(tmp_path / "fleet")) as repo:
        per_cycle = {cached: idle_cycle_requests(repo.url, kubeconfig, api_server, tmp_path, cached)
                     for cached in (True, False)}
    assert per_cycle[True] == {}, per_cycle[True]  # not one request, let alone a write
    # The same idle cycle without caches lists everything again (the counter counts):
    assert {("list", "nodes"), ("list", JOBS), ("list", "edgenodeinventories")} <= set(per_cycle[False])


def idle_cycle_requests(repo: str, kubeconfig: Path, server: ApiServer, tmp: Path,
                        cached: bool) -> dict[tuple[str, str], int]:
    """Start a controller, let it settle (a cycle that writes nothing after one that wrote
    nothing), then run one more cycle: the requests the server saw during it, by (verb, resource)."""
    settings = ControllerSettings(
        repo=repo, interval=3600.0, resync=3600.0, listen="127.0.0.1:0", leader=FAST_LEASE,
        queue=QueueTiming(debounce=0.05, max_delay=0.2), identity=f"idle-{str(cached).lower()}",
        cache_dir=tmp / f"cache-{cached}", watch_cache=cached, lease_name=f"idle-{str(cached).lower()}")
    session = Session.from_kubeconfig(kubeconfig)
    controller = Controller(settings, session)
    controller.start()
    try:
        assert wait_until(lambda: controller.state.snapshot().ready, 30), controller.state.snapshot()
        quiet = 0
        for _ in range(10):  # the first cycles record evidence; then nothing is left to do
            view = run_cycle(controller)
            quiet = quiet + 1 if view.jobs_created == view.jobs_deleted == 0 and view.succeeded else 0
            if quiet >= 2:
                break
        assert quiet >= 2, controller.state.snapshot().last
        before = server.counts.by_key()
        view = run_cycle(controller)
        after = server.counts.by_key()
        assert view.succeeded, view
    finally:
        controller.stop()
        session.close()
    return {key: n - before.get(key, 0) for key, n in after.items()
            if n != before.get(key, 0) and key[1] not in NOT_CYCLE_REQUESTS}


def run_cycle(controller: Controller) -> Any:
    done = controller.state.snapshot().cycles
    controller.queue.add_now("test: one more cycle")
    assert controller.wait_for_cycle(lambda: controller.state.snapshot().cycles > done, 30)
    return controller.state.snapshot().last


# ----- write expectations: a lagging watch -----


@dataclass
class Caching:
    caches: WatchCaches
    group: WatchGroup
    cluster: CachedCluster


class WithoutExpectations(CachedCluster):
    """The cache path with the expectations left out: what the test guards against."""

    def apply(self, plan: Plan, *, dry_run: bool) -> ApplyReport:
        return LiveCluster.apply(self, plan, dry_run=dry_run)


@pytest.fixture
def caching(crds: Session, request: pytest.FixtureRequest) -> Iterator[Callable[..., Caching]]:
    groups: list[WatchGroup] = []

    def start(kind: type[CachedCluster] = CachedCluster) -> Caching:
        caches = WatchCaches()
        group = WatchGroup(cluster_watches(crds, lambda reason: None, lambda resource, state: None,
                                           caches))
        groups.append(group)
        group.start()
        assert group.wait_synced(10)
        return Caching(caches, group, kind(crds, caches, lag_wait=0.5))

    yield start
    for group in groups:
        group.stop()
        assert not any(t.is_alive() for t in group._threads)


def cycle(cluster: CachedCluster, fleet: Path) -> CycleResult:
    return sync_once(read_revision=lambda: read_worktree(fleet), cluster=cluster,
                     settings=SyncSettings())


@pytest.mark.parametrize("expectations", [True, False], ids=["with-expectations", "without"])
def test_a_lagging_watch_never_gets_a_job_created_twice(
        tmp_path: Path, store: Store, api_server: ApiServer, faults: Faults,
        caching: Callable[..., Caching], expectations: bool) -> None:
    for name in NODES:
        store.create("", "nodes", shop_node(name, holds=False))
    fleet = write_fleet(tmp_path / "fleet")
    setup = caching(CachedCluster if expectations else WithoutExpectations)
    faults.watch_event_delay = 5.0  # from now on, events reach the caches 5 s late
    try:
        first = cycle(setup.cluster, fleet)  # the first read of a cluster lists
        assert first.applied is not None and first.applied.created, first.message
        second = cycle(setup.cluster, fleet)  # planned at once: the caches lack the new jobs
    finally:
        faults.watch_event_delay = 0.0
    assert second.ok, second.message
    creates = api_server.counts.creates_of(JOBS)
    assert creates and set(creates) == set(first.applied.created)
    if expectations:
        assert setup.cluster.lag_fallbacks == 1  # it saw its jobs missing and listed instead
        assert all(n == 1 for n in creates.values()), creates  # one create request per job
        assert second.applied is not None and second.applied.writes == 0
    else:  # the test can fail: a cache behind its own writes plans the same jobs again
        assert any(n > 1 for n in creates.values()), creates
    # Once the events land, the caches hold the jobs and the next cycle plans from them.
    assert wait_until(lambda: all(setup.caches.jobs.get(n) is not None for n in creates), 15)
    reads = setup.cluster.cache_reads
    third = cycle(setup.cluster, fleet)
    assert setup.cluster.cache_reads == reads + 1 and third.ok
    assert third.applied is not None and third.applied.writes == 0


def test_the_caches_hold_the_facts_a_list_decodes(store: Store, caching: Callable[..., Caching],
                                                  crds: Session) -> None:
    for name in NODES:
        store.create("", "nodes", shop_node(name, holds=name.endswith("1")))
    setup = caching()
    store.delete("", "nodes", NODES[0])
    node = store.get("", "nodes", NODES[2])
    node["metadata"]["labels"]["tier"] = "gold"
    store.update("", "nodes", node)
    listed = LiveCluster(crds).observe()
    assert wait_until(lambda: setup.caches.nodes.values() == tuple(listed.nodes), 10)
    assert setup.caches.jobs.values() == tuple(listed.jobs)
    assert setup.caches.inventories.values() == tuple(listed.inventories)


def test_an_unchanged_revision_is_parsed_once(tmp_path: Path) -> None:
    from reconciler.controller.fleetmemo import FleetMemo

    files = read_worktree(write_fleet(tmp_path / "fleet")).files
    memo = FleetMemo()
    first, again = memo(files), memo(dict(files))
    assert first is again and memo.loads == 1 and first.ok
    changed = dict(files, **{"groups/shops.yaml": files["groups/shops.yaml"].replace(b"1.0", b"1.1")})
    assert memo(changed) is not first and memo.loads == 2
    assert memo(files) is first and memo.loads == 2  # the last two contents are kept
