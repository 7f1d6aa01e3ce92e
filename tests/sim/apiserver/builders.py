"""Object builders and the kubectl runner shared by the API server tests."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[3]
UPSTREAM_CRDS = REPO_ROOT.parent / "shared" / "kubeedge-crds"
KUBECTL = Path(sys.executable).parent / "kubectl"
IPPJ = ("operations.kubeedge.io", "imageprepulljobs")


def edge_node(name: str, labels: dict[str, str] | None = None, ready: str = "True",
              images: int = 0) -> dict[str, Any]:
    """A Node as a KubeEdge edgecore registers it."""
    return {
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": name, "labels": {"node-role.kubernetes.io/edge": "", **(labels or {})}},
        "status": {
            "conditions": [{"type": "Ready", "status": ready}],
            "nodeInfo": {  # every field the typed client requires
                "kubeletVersion": "v1.29.5-kubeedge-v1.21.0", "kubeProxyVersion": "",
                "architecture": "arm64", "operatingSystem": "linux", "osImage": "Ubuntu 22.04",
                "kernelVersion": "5.15.0", "containerRuntimeVersion": "containerd://1.7.2",
                "bootID": "", "machineID": "", "systemUUID": "",
            },
            "images": [{"names": [f"registry.example.com/app{i}:1.0"], "sizeBytes": 1000 * (i + 1)}
                       for i in range(images)],
        },
    }


def prepull_job(name: str, version: str = "v1alpha2", **template: Any) -> dict[str, Any]:
    """An ImagePrePullJob manifest."""
    spec = {"images": ["docker.io/library/nginx:1.25"], "nodeNames": ["edge-0"], **template}
    return {"apiVersion": f"operations.kubeedge.io/{version}", "kind": "ImagePrePullJob",
            "metadata": {"name": name}, "spec": {"imagePrePullTemplate": spec}}


class Kubectl:
    """Runs the real kubectl binary against the test server."""

    def __init__(self, kubeconfig: Path) -> None:
        self.kubeconfig = kubeconfig

    def __call__(self, *args: str, stdin: str | None = None, check: bool = True,
                 timeout: float = 30) -> subprocess.CompletedProcess[str]:
        result = subprocess.run([str(KUBECTL), "--kubeconfig", str(self.kubeconfig), *args],
                                input=stdin, capture_output=True, text=True, timeout=timeout)
        if check and result.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed: {result.stderr}")
        return result

    def popen(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen([str(KUBECTL), "--kubeconfig", str(self.kubeconfig), *args],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
