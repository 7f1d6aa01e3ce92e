"""Node objects as an edge node (EdgeCore's edged) or a control-plane kubelet reports them."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from reconciler.sim.apiserver.errors import Obj
from reconciler.sim.clock import rfc3339
from reconciler.sim.kubeedge.edge import EdgeNode
from reconciler.sim.kubeedge.prepull import EDGE_ROLE_LABEL

SITE_LABEL = "topology.edgefleet.io/site"
EDGE_KUBELET_VERSION = {"1.21": "v1.30.14-kubeedge-v1.21.0", "1.16": "v1.27.7-kubeedge-v1.16.0"}


def ready_condition(ready: bool, heartbeat: datetime, transition: datetime) -> Obj:
    """The Ready condition: posted by edged while connected; set to Unknown by the cloud's
    node lifecycle controller once the node stops posting."""
    if ready:
        status, reason, message = "True", "EdgeReady", "edge is posting ready status"
    else:
        status, reason, message = "Unknown", "NodeStatusUnknown", "Kubelet stopped posting node status."
    return {"type": "Ready", "status": status, "reason": reason, "message": message,
            "lastHeartbeatTime": rfc3339(heartbeat), "lastTransitionTime": rfc3339(transition)}


def edge_labels(edge: EdgeNode) -> dict[str, str]:
    """The labels an edge node registers with, plus those set on it (site, group)."""
    labels = {
        "kubernetes.io/arch": edge.arch,
        "kubernetes.io/hostname": edge.name,
        "kubernetes.io/os": "linux",
        EDGE_ROLE_LABEL: "",
        "node-role.kubernetes.io/agent": "",
        SITE_LABEL: edge.site,
    }
    labels.update(edge.labels)
    return labels


def _identity(name: str) -> tuple[str, str, str, str]:
    """(InternalIP, machineID, systemUUID, bootID): stable per name, one hash."""
    h = hashlib.sha256(name.encode()).hexdigest()
    b = bytes.fromhex(h[:6])
    return f"10.{b[0]}.{b[1]}.{b[2] % 254 + 1}", h[:32], h[32:], h[16:48]


def edge_node_object(edge: EdgeNode, now: datetime, *, image_cap: int, kubeedge: str,
                     images: list[Obj] | None = None) -> Obj:
    """The full Node object of an edge node at `now`. `images` may be passed precomputed
    (shared between nodes with equal stores); otherwise it is built with `image_cap`."""
    disk = str(edge.disk_bytes)
    address, machine, system, boot = _identity(edge.name)
    capacity = {"cpu": "4", "memory": "8049136Ki", "ephemeral-storage": disk, "pods": "110"}
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": edge.name, "labels": edge_labels(edge),
                     "annotations": {"node.alpha.kubernetes.io/ttl": "0"}},
        "spec": {},
        "status": {
            "conditions": [ready_condition(edge.ready, now, now)],
            "addresses": [{"type": "InternalIP", "address": address},
                          {"type": "Hostname", "address": edge.name}],
            "capacity": capacity,
            "allocatable": dict(capacity),
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10350}},
            "nodeInfo": {
                "architecture": edge.arch,
                "operatingSystem": "linux",
                "osImage": "Ubuntu 22.04.4 LTS",
                "kernelVersion": "5.15.0-105-generic",
                "containerRuntimeVersion": "containerd://1.7.13",
                "kubeletVersion": EDGE_KUBELET_VERSION.get(kubeedge, EDGE_KUBELET_VERSION["1.21"]),
                "kubeProxyVersion": "",
                "machineID": machine,
                "systemUUID": system,
                "bootID": boot,
            },
            # Kept last: node_list_json splices pre-serialized image lists in here.
            "images": images if images is not None else edge.status_images(image_cap),
        },
    }


def control_plane_node_object(name: str, now: datetime) -> Obj:
    """A cloud (non-edge) node: KubeEdge never targets it."""
    capacity = {"cpu": "8", "memory": "32874916Ki", "ephemeral-storage": "203056560Ki", "pods": "110"}
    address, machine, system, boot = _identity(name)
    cond: dict[str, Any] = {"type": "Ready", "status": "True", "reason": "KubeletReady",
                            "message": "kubelet is posting ready status",
                            "lastHeartbeatTime": rfc3339(now), "lastTransitionTime": rfc3339(now)}
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": {
            "kubernetes.io/arch": "amd64", "kubernetes.io/hostname": name, "kubernetes.io/os": "linux",
            "node-role.kubernetes.io/control-plane": "",
            "node.kubernetes.io/exclude-from-external-load-balancers": "",
        }},
        "spec": {"taints": [{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]},
        "status": {
            "conditions": [cond],
            "addresses": [{"type": "InternalIP", "address": address},
                          {"type": "Hostname", "address": name}],
            "capacity": capacity,
            "allocatable": dict(capacity),
            "nodeInfo": {"architecture": "amd64", "operatingSystem": "linux",
                         "osImage": "Ubuntu 22.04.4 LTS", "kernelVersion": "5.15.0-105-generic",
                         "containerRuntimeVersion": "containerd://1.7.13", "kubeletVersion": "v1.30.14",
                         "kubeProxyVersion": "v1.30.14", "machineID": machine,
                         "systemUUID": system, "bootID": boot},
            "images": [],
        },
    }
