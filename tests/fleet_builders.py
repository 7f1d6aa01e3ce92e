"""Builders for the pure core's tests: node objects as the API prints them, fleets, jobs."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from ruamel.yaml import YAML

from reconciler.manifests.fleet import (
    Fleet,
    GroupImage,
    JobPolicy,
    LabelRequirement,
    NodeGroupSpec,
    NodeSelection,
)
from reconciler.manifests.imageref import normalize_image
from reconciler.observed import NodeFacts, decode_nodes, job_from_object
from reconciler.observed.jobs import JobFacts

REPO_ROOT = Path(__file__).resolve().parents[1]
JOB_FIXTURES = REPO_ROOT / "tests" / "fixtures" / "jobs"
UPSTREAM_CRDS = REPO_ROOT.parent / "shared" / "kubeedge-crds"
NOW = datetime(2025, 7, 1, 12, 0, 0, tzinfo=UTC)
EDGE = "node-role.kubernetes.io/edge"
BELONGING = "apps.kubeedge.io/belonging-to"


def node_object(
    name: str,
    *,
    labels: dict[str, str] | None = None,
    ready: bool | None = True,
    images: Iterable[Sequence[str]] = (),
    edge: bool = True,
) -> dict[str, Any]:
    """A Node as `kubectl get nodes -o json` prints it (with fields the decoder must skip)."""
    all_labels = {"kubernetes.io/hostname": name, **(labels or {})}
    if edge:
        all_labels[EDGE] = ""
    conditions: list[dict[str, Any]] = [
        {"type": "MemoryPressure", "status": "False", "reason": "KubeletHasSufficientMemory"}
    ]
    if ready is not None:
        conditions.append({"type": "Ready", "status": "True" if ready else "False",
                           "lastHeartbeatTime": "2025-07-01T11:59:00Z"})
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": all_labels, "uid": f"uid-{name}",
                     "annotations": {"node.alpha.kubernetes.io/ttl": "0"}},
        "spec": {"taints": []},
        "status": {
            "conditions": conditions,
            "images": [{"names": list(n), "sizeBytes": 1000} for n in images],
            "nodeInfo": {"kubeletVersion": "v1.29.5-kubeedge-v1.21.0"},
        },
    }


def node_list(nodes: Iterable[dict[str, Any]], kind: str = "List") -> bytes:
    return orjson.dumps({"apiVersion": "v1", "kind": kind, "items": list(nodes),
                         "metadata": {"resourceVersion": ""}})


def nodes_facts(*objects: dict[str, Any]) -> list[NodeFacts]:
    return decode_nodes(node_list(objects), normalize=normalize_image)


def group(
    name: str,
    images: Iterable[str | tuple[str, str | None]],
    *,
    node_group: str | None = None,
    names: Sequence[str] = (),
    match_labels: dict[str, str] | None = None,
    expressions: Sequence[LabelRequirement] = (),
    policy: JobPolicy | None = None,
    secret: str | None = None,
    suspend: bool = False,
) -> NodeGroupSpec:
    """A resolved group; images are given un-normalized (normalized here, as the loader does)."""
    if node_group is not None:
        selection = NodeSelection(kind="nodeGroup", node_group=node_group)
    elif names:
        selection = NodeSelection(kind="names", names=tuple(sorted(names)))
    else:
        selection = NodeSelection(kind="selector",
                                  match_labels=tuple(sorted((match_labels or {}).items())),
                                  match_expressions=tuple(expressions))
    resolved = []
    for item in images:
        image, image_secret = (item, secret) if isinstance(item, str) else item
        resolved.append(GroupImage(normalize_image(image), image_secret))
    return NodeGroupSpec(name=name, selection=selection, images=tuple(sorted(resolved)),
                         policy=policy or JobPolicy(), suspend=suspend)


def fleet(*groups: NodeGroupSpec, allow_empty: bool = False) -> Fleet:
    return Fleet(groups=tuple(sorted(groups, key=lambda g: g.name)), allow_empty=allow_empty)


def load_yaml(path: Path) -> Any:
    return YAML(typ="safe").load(path.read_text())


def job_fixture(name: str) -> JobFacts:
    return job_from_object(load_yaml(JOB_FIXTURES / name))


def job_object(
    name: str,
    images: Sequence[str],
    nodes: Sequence[str],
    *,
    created: str = "2025-07-01T11:00:00Z",
    status: dict[str, Any] | None = None,
    group_name: str = "line",
    managed: bool = True,
    deleting: bool = False,
    api_version: str = "operations.kubeedge.io/v1alpha2",
    concurrency: int = 10,
    timeout: int = 300,
) -> dict[str, Any]:
    """An existing ImagePrePullJob as the API returns it (images given normalized)."""
    labels = {"edgefleet.io/group": group_name}
    if managed:
        labels["app.kubernetes.io/managed-by"] = "edgefleet"
    metadata: dict[str, Any] = {"name": name, "labels": labels, "creationTimestamp": created}
    if deleting:
        metadata["deletionTimestamp"] = "2025-07-01T11:59:00Z"
    obj: dict[str, Any] = {
        "apiVersion": api_version, "kind": "ImagePrePullJob", "metadata": metadata,
        "spec": {"imagePrePullTemplate": {"images": list(images), "nodeNames": list(nodes),
                                          "concurrency": concurrency, "timeoutSeconds": timeout,
                                          "failureTolerate": "1", "retryTimes": 1}},
    }
    if status is not None:
        obj["status"] = status
    return obj


def v2_status(phase: str, nodes: dict[str, tuple[str, dict[str, bool]]],
              time: str = "2025-07-01T11:05:00Z") -> dict[str, Any]:
    """A v1alpha2 status: node -> (node phase, image -> pulled)."""
    return {"phase": phase, "nodeStatus": [
        {"nodeName": n, "phase": p,
         "actionFlow": [{"action": "Pull", "status": "True", "time": time}] if imgs else [],
         "imageStatus": [{"image": i, "status": "True" if ok else "False",
                          **({} if ok else {"reason": "pull failed: 404"})} for i, ok in imgs.items()]}
        for n, (p, imgs) in nodes.items()]}


def jobs_facts(*objects: dict[str, Any]) -> list[JobFacts]:
    return [job_from_object(o) for o in objects]
