"""The three patch formats, through the store as every client reaches them."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.sim.apiserver.resource_types import PatchType
from reconciler.sim.apiserver.store import ApiError, Store
from tests.sim.apiserver.builders import IPPJ, edge_node, prepull_job

CONDITIONS = [{"type": "Ready", "status": "True"}, {"type": "DiskPressure", "status": "False"}]


@pytest.mark.parametrize(("patch_type", "patch", "expected"), [
    pytest.param("strategic", {"status": {"conditions": [{"type": "Ready", "status": "False"}]}},
                 [{"type": "Ready", "status": "False"}, {"type": "DiskPressure", "status": "False"}],
                 id="strategic-merges-conditions-by-type"),
    pytest.param("strategic", {"status": {"conditions": [{"type": "DiskPressure", "$patch": "delete"}]}},
                 [{"type": "Ready", "status": "True"}], id="strategic-deletes-by-key"),
    pytest.param("strategic", {"status": {"conditions": [{"type": "PIDPressure", "status": "False"}]}},
                 [*CONDITIONS, {"type": "PIDPressure", "status": "False"}], id="strategic-appends-new-key"),
    pytest.param("merge", {"status": {"conditions": [{"type": "Ready", "status": "False"}]}},
                 [{"type": "Ready", "status": "False"}], id="merge-replaces-lists"),
    pytest.param("json", [{"op": "replace", "path": "/status/conditions/1/status", "value": "True"}],
                 [{"type": "Ready", "status": "True"}, {"type": "DiskPressure", "status": "True"}],
                 id="json-replace"),
    pytest.param("json", [{"op": "remove", "path": "/status/conditions/0"}],
                 [{"type": "DiskPressure", "status": "False"}], id="json-remove"),
])
def test_status_patches(store: Store, patch_type: PatchType, patch: Any, expected: Any) -> None:
    node = edge_node("n")
    node["status"]["conditions"] = CONDITIONS
    store.create("", "nodes", node)
    patched = store.patch("", "nodes", "n", patch, patch_type, subresource="status")
    assert patched["status"]["conditions"] == expected


def test_strategic_replaces_lists_without_merge_key_and_merges_finalizers(store: Store) -> None:
    node = edge_node("n", images=3)
    node["metadata"]["finalizers"] = ["a"]
    store.create("", "nodes", node)
    images = [{"names": ["x:1"], "sizeBytes": 5}]
    patched = store.patch("", "nodes", "n", {"status": {"images": images}}, "strategic",
                          subresource="status")
    assert patched["status"]["images"] == images
    patched = store.patch("", "nodes", "n", {"metadata": {"finalizers": ["b"]}}, "strategic")
    assert patched["metadata"]["finalizers"] == ["a", "b"]
    patched = store.patch("", "nodes", "n", {"metadata": {"$deleteFromPrimitiveList/finalizers": ["a"]}},
                          "strategic")
    assert patched["metadata"]["finalizers"] == ["b"]


def test_merge_patch_null_deletes_and_json_patch_test_failure_is_422(store: Store) -> None:
    store.create("", "nodes", edge_node("n", {"site": "a"}))
    patched = store.patch("", "nodes", "n", {"metadata": {"labels": {"site": None}}}, "merge")
    assert "site" not in patched["metadata"]["labels"]
    with pytest.raises(ApiError) as caught:
        store.patch("", "nodes", "n", [{"op": "test", "path": "/metadata/name", "value": "m"}], "json")
    assert caught.value.code == 422


def test_strategic_patch_is_refused_for_custom_resources(store: Store) -> None:
    store.create(*IPPJ, prepull_job("j"))
    with pytest.raises(ApiError) as caught:
        store.patch(*IPPJ, "j", {"spec": {}}, "strategic")
    assert (caught.value.code, caught.value.reason) == (415, "UnsupportedMediaType")


def test_apply_patch_creates_then_merges(store: Store) -> None:
    created = store.patch(*IPPJ, "j", prepull_job("j"), "apply")
    assert created["metadata"]["generation"] == 1
    changed = prepull_job("j", concurrency=4)
    applied = store.patch(*IPPJ, "j", changed, "apply")
    assert applied["spec"]["imagePrePullTemplate"]["concurrency"] == 4
    assert applied["metadata"]["generation"] == 2


def test_patch_with_stale_resource_version_conflicts(store: Store) -> None:
    created = store.create("", "nodes", edge_node("n"))
    rv = created["metadata"]["resourceVersion"]
    store.patch("", "nodes", "n", {"metadata": {"labels": {"a": "1"}}}, "merge")
    with pytest.raises(ApiError) as caught:
        store.patch("", "nodes", "n", {"metadata": {"resourceVersion": rv, "labels": {"a": "2"}}}, "merge")
    assert (caught.value.code, caught.value.reason) == (409, "Conflict")
