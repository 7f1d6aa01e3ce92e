"""`edgefleet run` against the embedded API server: idle cycles reuse the plan, send nothing,
keep the status page right, and the first change after them is planned (controller/idle.py)."""

from __future__ import annotations

from pathlib import Path

from reconciler.cli.demo_git import ServedFleetRepository
from reconciler.controller.daemon import Controller, ControllerSettings
from reconciler.controller.queue import QueueTiming
from reconciler.kube.crds import install_crds, read_crds
from reconciler.kube.session import Session
from reconciler.sim.apiserver.server import ApiServer
from reconciler.sim.apiserver.store import Store
from tests.controller.conftest import FAST_LEASE, wait_until
from tests.controller.test_watch_caches import IMAGE, NODES, NOT_CYCLE_REQUESTS, run_cycle, shop_node


def write_rolled_fleet(root: Path) -> Path:
    """Six named nodes, one image, rolled out in two waves (so each plan carries a rollout status)."""
    (root / "groups").mkdir(parents=True)
    (root / "groups" / "shops.yaml").write_text(
        "apiVersion: edgefleet.io/v1alpha1\nkind: NodeGroupImages\nmetadata: {name: shops}\n"
        f"spec:\n  nodes: {{names: [{', '.join(NODES)}]}}\n  images: [{IMAGE}]\n"
        "  rollout: {waves: [{nodes: 50%}, {nodes: 100%}]}\n")
    return root


def test_idle_cycles_reuse_the_plan_write_nothing_and_a_change_is_planned(
        tmp_path: Path, store: Store, api_server: ApiServer, kubeconfig: Path, session: Session) -> None:
    install_crds(session, read_crds())
    for name in NODES:
        store.create("", "nodes", shop_node(name, holds=True))
    with ServedFleetRepository(tmp_path / "git", write_rolled_fleet(tmp_path / "fleet")) as repo:
        settings = ControllerSettings(
            repo=repo.url, interval=3600.0, resync=3600.0, listen="127.0.0.1:0", leader=FAST_LEASE,
            queue=QueueTiming(debounce=0.05, max_delay=0.2), identity="idle", cache_dir=tmp_path / "cache")
        controller = Controller(settings, session)
        controller.start()
        try:
            assert wait_until(lambda: controller.state.snapshot().ready, 30), controller.state.snapshot()
            assert wait_until(lambda: run_cycle(controller).succeeded and controller.plans.reused > 0, 30)
            first = controller.state.snapshot().last
            planned, reused = controller.plans.planned, controller.plans.reused
            before = api_server.counts.by_key()
            views = [run_cycle(controller) for _ in range(3)]
            sent = {k: n - before.get(k, 0) for k, n in api_server.counts.by_key().items()
                    if n != before.get(k, 0) and k[1] not in NOT_CYCLE_REQUESTS}
            assert (controller.plans.planned, controller.plans.reused) == (planned, reused + 3)
            assert sent == {}  # not one request: no list, no FleetRollout status patch
            for view in views:  # the status page still shows the whole outcome
                assert (view.outcome, view.groups, view.message) == ("converged", first.groups, first.message)
                assert view.groups[0].present == len(NODES)

            lost = shop_node(NODES[0], holds=False)  # a node's cache was wiped: a watch event
            store.update("", "nodes", lost, subresource="status")
            assert wait_until(lambda: controller.state.snapshot().last.jobs_created == 1, 30), \
                controller.state.snapshot().last
            assert controller.plans.planned > planned
        finally:
            controller.stop()
