"""The official Python client (typed, custom objects, dynamic) against the running emulator."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client, config, watch
from kubernetes.client.rest import ApiException
from kubernetes.dynamic import DynamicClient

from reconciler.sim.apiserver.server import ApiServer
from reconciler.sim.apiserver.store import Store
from reconciler.sim.served import new_store
from tests.sim.apiserver.builders import IPPJ, edge_node, prepull_job

GROUP, PLURAL = IPPJ


def _error(exc: pytest.ExceptionInfo[ApiException]) -> tuple[int, str]:
    body = json.loads(exc.value.body)
    assert body["kind"] == "Status" and body["code"] == exc.value.status
    return exc.value.status, body["reason"]


def test_typed_nodes_create_get_list_and_patch_status(core: client.CoreV1Api) -> None:
    _, status, _ = core.create_node_with_http_info(edge_node("edge-0", {"site": "a"}))
    assert status == 201
    for i in range(1, 7):
        core.create_node(edge_node(f"edge-{i}", {"site": "a" if i % 2 else "b"}))
    node = core.read_node("edge-0")
    assert node.metadata.labels["site"] == "a" and node.status.conditions[0].type == "Ready"
    names: list[str] = []
    page = core.list_node(label_selector="site=a,node-role.kubernetes.io/edge", limit=2)
    names += [n.metadata.name for n in page.items]
    while page.metadata._continue:
        page = core.list_node(label_selector="site=a", limit=2, _continue=page.metadata._continue)
        names += [n.metadata.name for n in page.items]
    assert names == ["edge-0", "edge-1", "edge-3", "edge-5"]
    patched = core.patch_node_status("edge-0", {"status": {"conditions": [
        {"type": "Ready", "status": "False", "reason": "EdgeOffline"}]}})
    assert [(c.type, c.status) for c in patched.status.conditions] == [("Ready", "False")]
    assert core.read_node("edge-0").metadata.labels["site"] == "a"


def test_error_codes_are_status_objects(core: client.CoreV1Api, custom: client.CustomObjectsApi) -> None:
    with pytest.raises(ApiException) as missing:
        core.read_node("nope")
    assert _error(missing) == (404, "NotFound")
    core.create_node(edge_node("edge-0"))
    with pytest.raises(ApiException) as exists:
        core.create_node(edge_node("edge-0"))
    assert _error(exists) == (409, "AlreadyExists")
    stale = core.read_node("edge-0")
    core.patch_node("edge-0", {"metadata": {"labels": {"site": "b"}}})
    with pytest.raises(ApiException) as conflicted:
        core.replace_node("edge-0", stale)
    assert _error(conflicted) == (409, "Conflict")
    bad = prepull_job("bad", concurrency="three")
    with pytest.raises(ApiException) as invalid:
        custom.create_cluster_custom_object(GROUP, "v1alpha2", PLURAL, bad)
    assert _error(invalid) == (422, "Invalid")
    assert "spec.imagePrePullTemplate.concurrency" in json.loads(invalid.value.body)["message"]


def test_strict_field_validation_rejects_and_default_prunes(custom: client.CustomObjectsApi) -> None:
    typo = prepull_job("typo")
    typo["spec"]["imagePrePullTemplate"]["nodes"] = ["edge-0"]
    with pytest.raises(ApiException) as strict:
        custom.create_cluster_custom_object(GROUP, "v1alpha2", PLURAL, typo, field_validation="Strict")
    status, _ = _error(strict)
    assert status == 400  # the API server's strict decoding answers BadRequest
    assert ('strict decoding error: unknown field "spec.imagePrePullTemplate.nodes"'
            in json.loads(strict.value.body)["message"])
    created = custom.create_cluster_custom_object(GROUP, "v1alpha2", PLURAL, typo)
    assert "nodes" not in created["spec"]["imagePrePullTemplate"]


def test_custom_objects_at_both_versions(custom: client.CustomObjectsApi) -> None:
    custom.create_cluster_custom_object(GROUP, "v1alpha1", PLURAL, prepull_job("j", "v1alpha1"))
    as_v2 = custom.get_cluster_custom_object(GROUP, "v1alpha2", PLURAL, "j")
    assert as_v2["apiVersion"] == "operations.kubeedge.io/v1alpha2"
    status = {"phase": "Completed", "nodeStatus": [{"nodeName": "edge-0", "phase": "Successful",
                                                    "imageStatus": [{"image": "nginx", "status": "True"}]}]}
    custom.patch_cluster_custom_object_status(GROUP, "v1alpha2", PLURAL, "j", {"status": status})
    read = custom.get_cluster_custom_object_status(GROUP, "v1alpha1", PLURAL, "j")
    assert read["apiVersion"] == "operations.kubeedge.io/v1alpha1"
    # conversion None + pruning: the v1alpha1 schema has neither phase nor nodeStatus
    assert read["status"] == {}
    listed = custom.list_cluster_custom_object(GROUP, "v1alpha2", PLURAL)
    assert [i["metadata"]["name"] for i in listed["items"]] == ["j"]
    assert listed["items"][0]["status"] == status
    assert listed["kind"] == "ImagePrePullJobList"


def test_dynamic_client_discovers_kubeedge_kinds(api_client: client.ApiClient,
                                                 core: client.CoreV1Api) -> None:
    core.create_node(edge_node("edge-0"))
    dynamic = DynamicClient(api_client)
    jobs = dynamic.resources.get(api_version="operations.kubeedge.io/v1alpha2", kind="ImagePrePullJob")
    assert (jobs.namespaced, jobs.name) == (False, "imageprepulljobs")
    jobs.create(body=prepull_job("j"))
    assert jobs.get(name="j").spec.imagePrePullTemplate.images == ["docker.io/library/nginx:1.25"]
    groups = dynamic.resources.get(api_version="apps.kubeedge.io/v1alpha1", kind="NodeGroup")
    assert groups.short_names == ["ng"]
    nodes = dynamic.resources.get(api_version="v1", kind="Node")
    assert [n.metadata.name for n in nodes.get().items] == ["edge-0"]


def test_watch_resumes_from_resource_version_with_bookmarks(core: client.CoreV1Api, store: Store) -> None:
    core.create_node(edge_node("edge-0"))
    mark = core.list_node().metadata.resource_version
    core.create_node(edge_node("edge-1"))
    core.patch_node("edge-0", {"metadata": {"labels": {"a": "b"}}})
    seen: list[tuple[str, str]] = []
    stream = watch.Watch().stream(core.list_node, resource_version=mark, allow_watch_bookmarks=True,
                                  timeout_seconds=3)
    for event in stream:
        if event["type"] == "BOOKMARK":
            seen.append(("BOOKMARK", event["raw_object"]["metadata"]["resourceVersion"]))
            break
        seen.append((event["type"], event["object"].metadata.name))
    assert seen == [("ADDED", "edge-1"), ("MODIFIED", "edge-0"), ("BOOKMARK", store.resource_version)]


@pytest.fixture
def small_history_core(tmp_path: Path) -> Iterator[client.CoreV1Api]:
    with ApiServer(new_store(history=5)) as server:
        configuration = client.Configuration()
        config.load_kube_config(config_file=str(server.write_kubeconfig(tmp_path / "kc")),
                                client_configuration=configuration)
        with client.ApiClient(configuration) as api:
            yield client.CoreV1Api(api)


def test_watch_from_a_version_older_than_history_is_gone(small_history_core: client.CoreV1Api) -> None:
    core = small_history_core
    core.create_node(edge_node("edge-0"))
    mark = core.list_node().metadata.resource_version
    for i in range(8):
        core.patch_node("edge-0", {"metadata": {"labels": {"n": str(i)}}})
    with pytest.raises(ApiException) as gone:
        for _ in watch.Watch().stream(core.list_node, resource_version=mark, timeout_seconds=2):
            pass
    assert gone.value.status == 410


def test_watch_sees_writes_made_while_it_waits(core: client.CoreV1Api, store: Store) -> None:
    mark = core.list_node().metadata.resource_version
    threading.Timer(0.1, lambda: store.create("", "nodes", edge_node("late"))).start()
    for event in watch.Watch().stream(core.list_node, resource_version=mark, timeout_seconds=3):
        assert (event["type"], event["object"].metadata.name) == ("ADDED", "late")
        break
    else:
        pytest.fail("the watch ended without the ADDED event")


def test_secret_string_data_is_stored_as_base64_data(core: client.CoreV1Api) -> None:
    body = client.V1Secret(metadata=client.V1ObjectMeta(name="reg"), string_data={"token": "abc"})
    core.create_namespaced_secret("default", body)
    stored = core.read_namespaced_secret("reg", "default")
    assert stored.data == {"token": "YWJj"}
    assert stored.string_data is None
