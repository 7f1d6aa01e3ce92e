"""Real kubectl against the running emulator."""

from __future__ import annotations

import threading
from pathlib import Path

from ruamel.yaml import YAML

from reconciler.sim.apiserver.store import Store
from tests.sim.apiserver.builders import IPPJ, Kubectl, edge_node

JOB_YAML = """\
apiVersion: operations.kubeedge.io/v1alpha2
kind: ImagePrePullJob
metadata:
  name: prepull-nginx
spec:
  imagePrePullTemplate:
    images: [docker.io/library/nginx:1.25]
    nodeNames: [edge-0, edge-1]
    failureTolerate: "0.1"
    concurrency: 2
"""


def _apply(kubectl: Kubectl, tmp_path: Path, text: str, check: bool = True) -> str:
    manifest = tmp_path / "job.yaml"
    manifest.write_text(text)
    result = kubectl("apply", "-f", str(manifest), check=check)
    return result.stdout + result.stderr


def test_get_nodes_prints_a_table(kubectl: Kubectl, store: Store) -> None:
    store.create("", "nodes", edge_node("edge-0"))
    store.create("", "nodes", edge_node("edge-1", ready="False"))
    lines = kubectl("get", "nodes").stdout.splitlines()
    assert lines[0].split() == ["NAME", "STATUS", "ROLES", "AGE", "VERSION"]
    rows = [line.split() for line in lines[1:]]
    assert [(r[0], r[1], r[2], r[4]) for r in rows] == [
        ("edge-0", "Ready", "edge", "v1.29.5-kubeedge-v1.21.0"),
        ("edge-1", "NotReady", "edge", "v1.29.5-kubeedge-v1.21.0"),
    ]


def test_apply_get_yaml_and_reapply(kubectl: Kubectl, tmp_path: Path) -> None:
    created = _apply(kubectl, tmp_path, JOB_YAML)
    assert "imageprepulljob.operations.kubeedge.io/prepull-nginx created" in created
    listed = YAML(typ="safe").load(kubectl("get", "imageprepulljobs", "-o", "yaml").stdout)
    (job,) = listed["items"]
    assert job["apiVersion"] == "operations.kubeedge.io/v1alpha2"
    assert job["spec"]["imagePrePullTemplate"]["nodeNames"] == ["edge-0", "edge-1"]
    out = _apply(kubectl, tmp_path, JOB_YAML.replace("concurrency: 2", "concurrency: 5"))
    assert "configured" in out and "warning" not in out.lower()
    generation = kubectl("get", "imageprepulljob", "prepull-nginx", "-o",
                         "jsonpath={.metadata.generation}").stdout
    assert generation == "2"
    old = kubectl("get", "imageprepulljobs.v1alpha1.operations.kubeedge.io", "prepull-nginx",
                  "-o", "jsonpath={.apiVersion}").stdout
    assert old == "operations.kubeedge.io/v1alpha1"
    table = kubectl("get", "imageprepulljobs").stdout.splitlines()
    assert table[0].split() == ["NAME", "AGE"] and table[1].split()[0] == "prepull-nginx"


def test_apply_rejects_unknown_fields(kubectl: Kubectl, tmp_path: Path) -> None:
    out = _apply(kubectl, tmp_path, JOB_YAML.replace("nodeNames:", "nodes:"), check=False)
    assert 'strict decoding error: unknown field "spec.imagePrePullTemplate.nodes"' in out
    assert kubectl("get", "imageprepulljobs", "-o", "name").stdout == ""


def test_wait_for_jsonpath_sees_a_status_written_meanwhile(kubectl: Kubectl, tmp_path: Path,
                                                           store: Store) -> None:
    _apply(kubectl, tmp_path, JOB_YAML)

    def complete() -> None:
        store.mutate(*IPPJ, "prepull-nginx", lambda o: o.update(status={"phase": "InProgress"}),
                     subresource="status")
        store.mutate(*IPPJ, "prepull-nginx", lambda o: o.update(status={"phase": "Completed"}),
                     subresource="status")

    timer = threading.Timer(0.5, complete)
    timer.start()
    result = kubectl("wait", "imageprepulljob/prepull-nginx", "--for=jsonpath={.status.phase}=Completed",
                     "--timeout=20s")
    timer.join()
    assert "condition met" in result.stdout


def test_delete_waits_for_finalizers(kubectl: Kubectl, tmp_path: Path, store: Store) -> None:
    _apply(kubectl, tmp_path, JOB_YAML)
    store.mutate(*IPPJ, "prepull-nginx",
                 lambda o: o["metadata"].update(finalizers=["kubeedge.io/imageprepulljob-controller"]))
    deleting = kubectl.popen("delete", "imageprepulljob", "prepull-nginx", "--timeout=20s")
    try:
        while not store.get(*IPPJ, "prepull-nginx")["metadata"].get("deletionTimestamp"):
            threading.Event().wait(0.05)
        assert deleting.poll() is None  # still waiting on the finalizer
        store.mutate(*IPPJ, "prepull-nginx", lambda o: o["metadata"].update(finalizers=[]))
        out, err = deleting.communicate(timeout=20)
    finally:
        if deleting.poll() is None:
            deleting.kill()
    assert deleting.returncode == 0, err
    assert 'imageprepulljob.operations.kubeedge.io "prepull-nginx" deleted' in out
    assert kubectl("get", "imageprepulljobs", "-o", "name").stdout == ""


def test_describe_node_and_a_clear_error_for_protobuf_bodies(kubectl: Kubectl, store: Store) -> None:
    store.create("", "nodes", edge_node("edge-0"))
    described = kubectl("describe", "node", "edge-0").stdout
    assert "Roles:              edge" in described
    assert "Non-terminated Pods:          (0 in total)" in described
    # kubectl's typed generators send protobuf, which the emulator does not decode
    refused = kubectl("create", "namespace", "demo", check=False)
    assert refused.returncode == 1
    assert "reads JSON and YAML bodies only" in refused.stderr
