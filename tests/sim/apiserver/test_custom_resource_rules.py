"""Custom resource rules of the API server the store follows: reads at a non-storage version
are pruned to that version's schema (conversion None), updates must name a resourceVersion,
and a deletion held by finalizers bumps generation (markAsDeleting)."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.sim.apiserver.store import ApiError, Store
from tests.sim.apiserver.builders import IPPJ, edge_node, prepull_job

V2_STATUS = {"phase": "InProgress", "nodeStatus": [{"nodeName": "edge-0", "phase": "Pending"}]}


def _job_with_v2_status(store: Store) -> None:
    store.create(*IPPJ, prepull_job("j"))
    store.mutate(*IPPJ, "j", lambda o: o.update(status=V2_STATUS), subresource="status")


def test_v1alpha1_get_and_list_hide_v1alpha2_only_fields(store: Store) -> None:
    _job_with_v2_status(store)
    old = store.get(*IPPJ, "j", version="v1alpha1")
    assert old["status"] == {}  # neither phase nor nodeStatus exist in the v1alpha1 schema
    assert old["spec"] == store.get(*IPPJ, "j")["spec"]
    listed, _, _ = store.list(*IPPJ, version="v1alpha1")
    assert listed[0]["status"] == {}
    assert store.get(*IPPJ, "j", version="v1alpha2")["status"] == V2_STATUS
    assert store.get(*IPPJ, "j")["status"] == V2_STATUS  # stored once, unpruned


def test_v1alpha1_watch_hides_v1alpha2_only_fields(store: Store) -> None:
    store.create(*IPPJ, prepull_job("j"))
    mark = store.resource_version
    store.mutate(*IPPJ, "j", lambda o: o.update(status=V2_STATUS), subresource="status")
    events = list(store.watch(*IPPJ, version="v1alpha1", resource_version=mark, timeout=0.3))
    assert [(e.type, e.object["status"]) for e in events] == [("MODIFIED", {})]
    initial = list(store.watch(*IPPJ, version="v1alpha1", timeout=0.3))
    assert [(e.type, e.object["status"]) for e in initial] == [("ADDED", {})]


def test_v1alpha1_update_answer_is_pruned_but_status_is_kept(store: Store) -> None:
    _job_with_v2_status(store)
    old = store.get(*IPPJ, "j", version="v1alpha1")
    old["metadata"]["labels"] = {"a": "b"}
    answer = store.update(*IPPJ, old, version="v1alpha1")
    assert answer["status"] == {}
    assert store.get(*IPPJ, "j")["status"] == V2_STATUS


def test_core_types_are_not_pruned(store: Store) -> None:
    store.create("", "nodes", edge_node("edge-0", images=2))
    assert len(store.get("", "nodes", "edge-0")["status"]["images"]) == 2


@pytest.mark.parametrize("subresource", [
    pytest.param(None, id="main-resource"),
    pytest.param("status", id="status"),
])
def test_custom_resource_update_needs_a_resource_version(store: Store,
                                                         subresource: str | None) -> None:
    _job_with_v2_status(store)
    body: dict[str, Any] = store.get(*IPPJ, "j")
    del body["metadata"]["resourceVersion"]
    with pytest.raises(ApiError) as caught:
        store.update(*IPPJ, body, subresource=subresource)
    assert (caught.value.code, caught.value.reason) == (422, "Invalid")
    assert caught.value.message == (
        'imageprepulljobs.operations.kubeedge.io "j" is invalid: metadata.resourceVersion: '
        "Invalid value: 0x0: must be specified for an update")


def test_core_update_without_resource_version_is_unconditional(store: Store) -> None:
    created = store.create("", "nodes", edge_node("edge-0"))
    del created["metadata"]["resourceVersion"]
    created["metadata"]["labels"]["site"] = "a"
    assert store.update("", "nodes", created)["metadata"]["labels"]["site"] == "a"


def test_deletion_held_by_finalizers_bumps_generation(store: Store) -> None:
    job = prepull_job("j")
    job["metadata"]["finalizers"] = ["kubeedge.io/imageprepulljob-controller"]
    store.create(*IPPJ, job)
    deleting = store.delete(*IPPJ, "j")
    assert deleting["metadata"]["generation"] == 2
    assert store.delete(*IPPJ, "j")["metadata"]["generation"] == 2  # only the first delete
