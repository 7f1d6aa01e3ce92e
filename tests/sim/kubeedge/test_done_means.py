"""Issue 3 "Done means", end to end through the HTTP API server with real kubectl and the
official Python client: a 50-node embedded cluster, the seed guide's example job (corrected
per the reference: `nodeNames`, ASCII colons, a labels map, v1alpha2 on 1.21) ends Completed
with per-node imageStatus, and the image is then in the nodes' stores and `status.images`."""

from __future__ import annotations

import base64
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client, config

from reconciler.sim.cluster import EmbeddedCluster
from tests.sim.kubeedge.builders import CALM

KUBECTL = Path(sys.executable).parent / "kubectl"
IMAGE = "registry.cn-hangzhou.aliyuncs.com/jilimoxing/test:nginx"
EXAMPLE = """\
apiVersion: operations.kubeedge.io/v1alpha2
kind: ImagePrePullJob
metadata:
  name: imageprepull-example
  labels:
    description: ImagePrePullLabel
spec:
  imagePrePullTemplate:
    images:
      - {image}
    nodeNames:
      - {node_a}
      - {node_b}
    checkItems:
      - "disk"
    failureTolerate: "0.3"
    concurrency: 2
    timeoutSeconds: 180
    retryTimes: 1
    imageSecrets: default/my-secret
"""
# A placeholder credential (demo:demo) laid out as the edge reads it: a top-level CRI
# AuthConfig. The guide's `kubectl create secret docker-registry` writes {"auths": {...}},
# which the edge decodes into no credentials (docs/kubeedge.md §4.5; tests/sim/kubeedge/test_pull_secrets.py).
DOCKERCONFIG = base64.b64encode(
    b'{"auth":"ZGVtbzpkZW1v","server_address":"registry.cn-hangzhou.aliyuncs.com"}').decode()
SECRET = f"""\
apiVersion: v1
kind: Secret
metadata:
  name: my-secret
  namespace: default
type: kubernetes.io/dockerconfigjson
data:
  .dockerconfigjson: {DOCKERCONFIG}
"""


@pytest.fixture(scope="module")
def cluster() -> Iterator[EmbeddedCluster]:
    with EmbeddedCluster(nodes=50, speed=50, image_cap=-1, fleet=CALM) as running:
        yield running
        assert running.simulation.errors == []


def kubectl(kubeconfig: Path, *args: str, stdin: str | None = None) -> str:
    done = subprocess.run([str(KUBECTL), "--kubeconfig", str(kubeconfig), *args], input=stdin,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_seed_example_job_completes(cluster: EmbeddedCluster, tmp_path: Path) -> None:
    kubeconfig = cluster.write_kubeconfig(tmp_path / "kubeconfig")
    edge_nodes = kubectl(kubeconfig, "get", "nodes", "-l", "node-role.kubernetes.io/edge",
                         "-o", "name").split()
    assert len(edge_nodes) == 50
    node_a, node_b = [n for n in cluster.edge_names()
                      if cluster.nodes[n].edge.disk_bytes >= 64 * 2**30][:2]

    # A dockerconfigjson secret with a placeholder credential in the shape the edge decodes
    # (`kubectl create secret docker-registry` sends protobuf, which the emulator does not speak).
    kubectl(kubeconfig, "apply", "-f", "-", stdin=SECRET)
    manifest = tmp_path / "imageprepull.yaml"
    manifest.write_text(EXAMPLE.format(image=IMAGE, node_a=node_a, node_b=node_b))
    kubectl(kubeconfig, "apply", "-f", str(manifest))
    kubectl(kubeconfig, "wait", "--for=jsonpath={.status.phase}=Completed", "--timeout=60s",
            "imageprepulljobs.v1alpha2.operations.kubeedge.io/imageprepull-example")

    configuration = client.Configuration()
    config.load_kube_config(config_file=str(kubeconfig),  # type: ignore[no-untyped-call]
                            client_configuration=configuration)
    with client.ApiClient(configuration) as api:
        job = client.CustomObjectsApi(api).get_cluster_custom_object(
            "operations.kubeedge.io", "v1alpha2", "imageprepulljobs", "imageprepull-example")
        assert isinstance(job, dict)
        assert {n["nodeName"]: (n["phase"], n["imageStatus"]) for n in job["status"]["nodeStatus"]} == {
            node: ("Successful", [{"image": IMAGE, "status": "True"}]) for node in (node_a, node_b)}
        for node in (node_a, node_b):
            assert cluster.nodes[node].has_image(IMAGE)
            status = client.CoreV1Api(api).read_node(node).status
            assert status is not None and status.images
            assert any(IMAGE in (image.names or []) for image in status.images)

    # The controller-manager removes its finalizer, so a plain delete completes.
    kubectl(kubeconfig, "delete", "-f", str(manifest), "--timeout=30s")
    assert kubectl(kubeconfig, "get", "imageprepulljobs", "-o", "name") == ""
