"""KubeEdge 1.16-1.20 semantics through the store, on a manual clock."""

from __future__ import annotations

import pytest

from reconciler.sim.kubeedge.prepull import Switches
from tests.sim.kubeedge.builders import JOBS, MakeCluster, job, status_of

NGINX = "docker.io/library/nginx:1.25"


def fresh(cluster: object, count: int) -> list[str]:
    c = cluster  # EmbeddedCluster
    return [n for n in c.edge_names() if not c.nodes[n].has_image(NGINX)][:count]  # type: ignore[attr-defined]


def test_job_succeeds_with_capitalized_states(make_cluster: MakeCluster) -> None:
    cluster = make_cluster(kubeedge="1.16")
    a, b, down = fresh(cluster, 3)
    cluster.nodes[down].set_behaviour("offline")
    cluster.store.create(*JOBS, job("j", [a, b, down], "v1alpha1", concurrency=2))
    cluster.advance(600)
    status = status_of(cluster, "j")
    assert (status["state"], status["event"], status["action"]) == ("Successful", "Pull", "Success")
    # The NotReady node was dropped silently: no entry, no failure.
    assert sorted(e["nodeStatus"]["nodeName"] for e in status["status"]) == sorted([a, b])
    assert status["status"][0]["imageStatus"] == [{"image": "nginx:1.25", "state": "Successful"}]
    assert cluster.store.get(*JOBS, "j")["metadata"].get("finalizers") is None
    assert cluster.nodes[a].has_image(NGINX)


def test_one_unknown_name_writes_no_status_5531(make_cluster: MakeCluster) -> None:
    cluster = make_cluster(kubeedge="1.16")
    (a,) = fresh(cluster, 1)
    cluster.store.create(*JOBS, job("j", [a, "ghost"], "v1alpha1"))
    cluster.advance(600)
    assert status_of(cluster, "j") == {}
    assert "imageprepulljob j: no node need to be upgrade" in cluster.log
    assert not cluster.nodes[a].has_image(NGINX)


@pytest.mark.parametrize(("silent_success", "state", "image_status"), [
    pytest.param(True, "Successful", [], id="unreadable-secret-reports-success"),
    pytest.param(False, "Failed", [], id="switch-off-fails"),
])
def test_secret_silent_success(make_cluster: MakeCluster, silent_success: bool, state: str,
                               image_status: list[object]) -> None:
    cluster = make_cluster(kubeedge="1.16", switches=Switches(v1alpha1_secret_silent_success=silent_success))
    (a,) = fresh(cluster, 1)
    cluster.store.create(*JOBS, job("j", [a], "v1alpha1", imageSecrets="default/absent"))
    cluster.advance(600)
    entry = status_of(cluster, "j")["status"][0]
    assert entry["nodeStatus"]["state"] == state
    assert entry["imageStatus"] == image_status
    assert not cluster.nodes[a].has_image(NGINX)  # nothing was pulled either way


def test_retry_minus_one_claims_images_it_never_pulled(make_cluster: MakeCluster) -> None:
    cluster = make_cluster(kubeedge="1.16")
    (a,) = fresh(cluster, 1)
    cluster.store.create(*JOBS, job("j", [a], "v1alpha1", retryTimes=-1))
    cluster.advance(600)
    status = status_of(cluster, "j")
    assert status["state"] == "Successful"
    assert status["status"][0]["imageStatus"] == [{"image": "nginx:1.25", "state": "Successful"}]
    assert not cluster.nodes[a].has_image(NGINX)


def test_silent_node_times_out_per_stage(make_cluster: MakeCluster) -> None:
    cluster = make_cluster(kubeedge="1.16")
    a, silent = fresh(cluster, 2)
    cluster.nodes[silent].set_behaviour("silent")
    cluster.store.create(*JOBS, job("j", [a, silent], "v1alpha1", concurrency=2, timeoutSeconds=30,
                                    failureTolerate="0.6"))
    cluster.advance(600)
    status = status_of(cluster, "j")
    by_node = {e["nodeStatus"]["nodeName"]: e["nodeStatus"] for e in status["status"]}
    assert (by_node[silent]["state"], by_node[silent]["event"]) == ("Failed", "TimeOut")
    assert by_node[a]["state"] == "Successful"
    assert status["state"] == "Successful"  # 1 failed < 2 * 0.6
