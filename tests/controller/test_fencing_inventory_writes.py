"""Leader fencing with concurrent inventory writes: once the Lease is lost mid-batch, no
further write starts (at most those already on the wire land) and nothing after the
inventories, no delete and no create, is sent."""

from __future__ import annotations

from reconciler.controller.daemon import NotLeading, _Fence
from reconciler.inventory.records import InventoryUpdate
from reconciler.kube.cluster import LiveCluster
from reconciler.kube.crds import install_crds, read_crds
from reconciler.kube.session import Session
from reconciler.manifests.fleet import JobPolicy
from reconciler.observed.inventories import InventoryImage, InventoryStatus
from reconciler.planner import Counts, JobDeletion, Plan, PlannedJob
from reconciler.sim.apiserver.server import ApiServer
from reconciler.sim.apiserver.store import Store

V2 = "operations.kubeedge.io/v1alpha2"
JOBS = ("operations.kubeedge.io", "imageprepulljobs")
NGINX = "docker.io/library/nginx:1.25"
NODES = tuple(f"edge-{i:03d}" for i in range(40))


def update(node: str) -> InventoryUpdate:
    status = InventoryStatus(images=(
        InventoryImage(image=NGINX, source="job/ef-line-a", observed_at="2025-07-01T08:00:00Z"),))
    return InventoryUpdate(node=node, status=status, exists=False, resource_version="")


def test_a_lost_lease_stops_the_concurrent_inventory_writes_and_the_rest_of_the_plan(
        session: Session, store: Store, api_server: ApiServer) -> None:
    install_crds(session, read_crds())
    store.create(*JOBS, {"apiVersion": V2, "kind": "ImagePrePullJob",
                         "metadata": {"name": "ef-line-old", "labels": {
                             "app.kubernetes.io/managed-by": "edgefleet"}},
                         "spec": {"imagePrePullTemplate": {"images": [NGINX],
                                                           "nodeNames": ["edge-000"]}}})
    leading = {"now": True}
    recorded: list[str] = []
    fence = _Fence(LiveCluster(session), lambda: leading["now"])
    hook = fence._live.progress
    assert hook is not None

    def lose_the_lease_after_three(step: str, done: int, total: int) -> None:
        recorded.append(step)
        if len(recorded) == 3:
            leading["now"] = False
        hook(step, done, total)

    fence._live.progress = lose_the_lease_after_three
    fence.observe()
    api_server.requests.clear()
    new = PlannedJob(name="ef-line-new", group="line", api_version=V2, images=(NGINX,),
                     node_names=("edge-001",), secret=None, policy=JobPolicy(), revision="abc",
                     attempt=0)
    plan = Plan(revision="abc", job_api_version=V2, create=(new,),
                delete=(JobDeletion("ef-line-old", "obsolete", "line"),), deferred=(),
                inventory_updates=tuple(update(n) for n in NODES), groups=(), summary=Counts(),
                group_total=1)
    report = fence.apply(plan, dry_run=False)
    assert isinstance(report.failure, NotLeading)
    sent = api_server.requests.requests()
    workers = session.settings.write_concurrency
    # Each inventory is a create then a status patch; after the third recorded one, only the
    # writes already past the fence may land: at most one round of the others.
    created = [r for r in sent if r.verb == "create" and r.resource == "edgenodeinventories"]
    assert len(created) <= 3 + workers - 1 < len(NODES)
    assert not [r for r in sent if r.resource == "imageprepulljobs"]
    names = sorted(j["metadata"]["name"] for j in store.list(*JOBS, version="v1alpha2")[0])
    assert names == ["ef-line-old"]
