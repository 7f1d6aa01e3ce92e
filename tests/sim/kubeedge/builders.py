"""Builders shared by the KubeEdge semantics tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from reconciler.sim.cluster import EmbeddedCluster
from reconciler.sim.kubeedge.fleetgen import FleetOptions

JOBS = ("operations.kubeedge.io", "imageprepulljobs")
# No offline/flapping/silent/slow nodes unless a test sets them: outcomes stay exact.
CALM = FleetOptions(offline=0, flapping=0, silent=0, slow=0)

MakeCluster = Callable[..., EmbeddedCluster]


def job(name: str, nodes: list[str], version: str = "v1alpha2", **tpl: Any) -> dict[str, Any]:
    template = {"images": ["nginx:1.25"], "nodeNames": nodes, "timeoutSeconds": 60,
                "concurrency": 1, "failureTolerate": "1", "retryTimes": 0, **tpl}
    return {"apiVersion": f"operations.kubeedge.io/{version}", "kind": "ImagePrePullJob",
            "metadata": {"name": name}, "spec": {"imagePrePullTemplate": template}}


def status_of(cluster: EmbeddedCluster, name: str) -> dict[str, Any]:
    result: dict[str, Any] = cluster.store.get(*JOBS, name).get("status") or {}
    return result


def node_phases(cluster: EmbeddedCluster, name: str) -> dict[str, str]:
    return {n["nodeName"]: n["phase"] for n in status_of(cluster, name).get("nodeStatus", [])}
