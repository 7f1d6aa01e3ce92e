"""KubeEdge 1.21+ semantics through the store, on a manual clock."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.sim.kubeedge.prepull import Switches
from reconciler.sim.kubeedge.taskmanager_v1alpha2 import FINALIZER
from tests.sim.kubeedge.builders import JOBS, MakeCluster, job, node_phases, status_of

NGINX = "docker.io/library/nginx:1.25"


def fresh_nodes(cluster: Any, count: int) -> list[str]:
    return [n for n in cluster.edge_names() if not cluster.nodes[n].has_image(NGINX)][:count]


def test_job_completes_and_images_land(make_cluster: MakeCluster) -> None:
    cluster = make_cluster(image_cap=-1)
    a, b = fresh_nodes(cluster, 2)
    cluster.store.create(*JOBS, job("j", [a, b], concurrency=2))
    cluster.step()
    meta = cluster.store.get(*JOBS, "j")["metadata"]
    assert meta["finalizers"] == [FINALIZER]
    cluster.advance(600)
    status = status_of(cluster, "j")
    assert status["phase"] == "Completed"
    for entry in status["nodeStatus"]:
        assert [f["action"] for f in entry["actionFlow"]] == ["Check", "Pull"]
        assert entry["imageStatus"] == [{"image": "nginx:1.25", "status": "True"}]
        names = [n for i in cluster.store.get("", "nodes", entry["nodeName"])["status"]["images"]
                 for n in i["names"]]
        assert NGINX in names
    assert cluster.nodes[a].has_image(NGINX)


def test_not_ready_and_unknown_nodes_fail_at_init(make_cluster: MakeCluster) -> None:
    cluster = make_cluster()
    ok, down = fresh_nodes(cluster, 2)
    cluster.nodes[down].set_behaviour("offline")
    cluster.store.create(*JOBS, job("j", [ok, down, "ghost"], failureTolerate="0.7"))
    cluster.advance(600)
    status = status_of(cluster, "j")
    reasons = {n["nodeName"]: n.get("reason") for n in status["nodeStatus"]}
    assert reasons == {ok: None, down: "the node is not ready",
                       "ghost": 'failed to get node, err: nodes "ghost" not found'}
    # 2/3 = 0.67 failed <= 0.7
    assert status["phase"] == "Completed"


@pytest.mark.parametrize(("wedge", "executor_kept"), [
    pytest.param(True, True, id="wedged-7049"),
    pytest.param(False, False, id="slot-freed"),
])
def test_silent_node_wedges_the_queue(make_cluster: MakeCluster, wedge: bool,
                                      executor_kept: bool) -> None:
    cluster = make_cluster(switches=Switches(wedge_on_silent_node=wedge))
    silent, queued = fresh_nodes(cluster, 2)
    cluster.nodes[silent].set_behaviour("silent")
    cluster.store.create(*JOBS, job("j", [silent, queued], timeoutSeconds=30, failureTolerate="0"))
    cluster.advance(900)
    # Both time out together (the queued node is measured from the job's creation). A slot
    # freed by the timeout never dispatches a node that is no longer Pending: the queued node
    # stays Unknown and is not pulled, in a job that is final anyway.
    assert node_phases(cluster, "j") == {silent: "Unknown", queued: "Unknown"}
    assert not cluster.nodes[queued].has_image(NGINX)
    assert status_of(cluster, "j")["phase"] == "Failure"
    assert ("j" in cluster.prepull.executors) is executor_kept


def test_deleted_event_without_deletion_timestamp_interrupts_the_executor(
        make_cluster: MakeCluster) -> None:
    cluster = make_cluster()
    first, *queued = fresh_nodes(cluster, 3)
    cluster.store.create(*JOBS, job("j", [first, *queued], concurrency=1))
    cluster.advance(0.2)  # finalizer, Init, first node dispatched
    assert node_phases(cluster, "j")[first] == "InProgress"
    # The finalizer is removed by hand and the job deleted before the controller-manager
    # reconciles again: CloudCore sees a DELETED event with no deletionTimestamp before it.
    cluster.store.mutate(*JOBS, "j", lambda o: o["metadata"].pop("finalizers"))
    cluster.store.delete(*JOBS, "j")
    cluster.advance(600)
    assert [cluster.nodes[n].has_image(NGINX) for n in queued] == [False, False]
    assert "j" not in cluster.prepull.executors


@pytest.mark.parametrize(("skip", "phase"), [
    pytest.param(True, "InProgress", id="already-running-skipped"),
    pytest.param(False, "Completed", id="fresh-executor"),
])
def test_recreated_name_behind_a_wedged_executor(make_cluster: MakeCluster, skip: bool, phase: str) -> None:
    cluster = make_cluster(switches=Switches(skip_already_running=skip))
    silent, healthy = fresh_nodes(cluster, 2)
    cluster.nodes[silent].set_behaviour("silent")
    cluster.store.create(*JOBS, job("same", [silent], timeoutSeconds=0))  # no timeout: wedged forever
    cluster.advance(60)
    cluster.store.delete(*JOBS, "same")
    cluster.step()
    with pytest.raises(Exception, match="not found"):
        cluster.store.get(*JOBS, "same")  # the controller-manager removed its finalizer
    cluster.store.create(*JOBS, job("same", [healthy], timeoutSeconds=0))
    cluster.advance(600)
    assert status_of(cluster, "same")["phase"] == phase
    assert any("already running" in line for line in cluster.log) is skip


def test_spec_edits_after_init_are_ignored(make_cluster: MakeCluster) -> None:
    cluster = make_cluster()
    (node,) = fresh_nodes(cluster, 1)
    cluster.store.create(*JOBS, job("j", [node]))
    cluster.step()

    def edit(obj: dict[str, Any]) -> None:
        obj["spec"]["imagePrePullTemplate"]["images"] = ["busybox:1.36"]

    cluster.store.mutate(*JOBS, "j", edit)
    cluster.advance(600)
    assert status_of(cluster, "j")["nodeStatus"][0]["imageStatus"][0]["image"] == "nginx:1.25"


def test_missing_secret_fails_the_pull(make_cluster: MakeCluster) -> None:
    cluster = make_cluster()
    (node,) = fresh_nodes(cluster, 1)
    cluster.store.create(*JOBS, job("j", [node], imageSecrets="default/absent"))
    cluster.advance(600)
    entry = status_of(cluster, "j")["nodeStatus"][0]
    assert entry["phase"] == "Failure"
    assert 'secrets "absent" not found' in entry["actionFlow"][-1]["reason"]
