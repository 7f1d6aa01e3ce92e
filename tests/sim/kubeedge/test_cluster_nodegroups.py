"""The NodeGroup controller through the store."""

from __future__ import annotations

from reconciler.sim.kubeedge.nodegroups import BELONGING_LABEL, FINALIZER
from tests.sim.kubeedge.builders import MakeCluster

GROUPS = ("apps.kubeedge.io", "nodegroups")


def labels(cluster: object, name: str) -> dict[str, str]:
    result: dict[str, str] = cluster.store.get("", "nodes", name)["metadata"]["labels"]  # type: ignore[attr-defined]
    return result


def test_generated_groups_are_consistent(make_cluster: MakeCluster) -> None:
    cluster = make_cluster(nodes=14)
    group = cluster.store.get(*GROUPS, "factory-shanghai")
    assert group["metadata"]["finalizers"] == [FINALIZER]
    members = [s["nodeName"] for s in group["status"]["nodeStatuses"]]
    assert members and all(m.startswith("factory-shanghai-") for m in members)
    assert {s["selectionStatus"] for s in group["status"]["nodeStatuses"]} == {"Succeeded"}


def test_named_members_are_labelled_and_unlabelled_on_delete(make_cluster: MakeCluster) -> None:
    cluster = make_cluster(nodes=14)
    shop = next(n for n in cluster.edge_names() if n.startswith("shop-"))
    factory = next(n for n in cluster.edge_names() if n.startswith("factory-suzhou-"))
    cluster.store.create(*GROUPS, {"metadata": {"name": "pilot"}, "spec": {"nodes": [shop, factory]}})
    cluster.step()
    assert labels(cluster, shop)[BELONGING_LABEL] == "pilot"
    assert labels(cluster, factory)[BELONGING_LABEL] == "factory-suzhou"
    reasons = {s["nodeName"]: s.get("selectionStatusReason")
               for s in cluster.store.get(*GROUPS, "pilot")["status"]["nodeStatuses"]}
    assert reasons == {shop: None,
                       factory: f"node {factory} has already belonged to NodeGroup factory-suzhou"}
    cluster.store.delete(*GROUPS, "pilot")
    cluster.step()
    assert BELONGING_LABEL not in labels(cluster, shop)
    assert [g["metadata"]["name"] for g in cluster.store.list(*GROUPS)[0]] == [
        "factory-shanghai", "factory-suzhou"]
