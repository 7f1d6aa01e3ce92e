"""In-process Store semantics, as the simulated KubeEdge uses them."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from reconciler.sim.apiserver.store import ApiError, Store
from reconciler.sim.served import new_store
from tests.sim.apiserver.builders import IPPJ, edge_node, prepull_job


def _codes(fn: Any) -> tuple[int, str]:
    with pytest.raises(ApiError) as caught:
        fn()
    return caught.value.code, caught.value.reason


def test_create_stamps_metadata_and_drops_custom_resource_status(store: Store) -> None:
    job = prepull_job("j")
    job["status"] = {"phase": "Completed"}
    created = store.create(*IPPJ, job)
    meta = created["metadata"]
    assert meta["generation"] == 1
    assert meta["uid"] and meta["creationTimestamp"].endswith("Z")
    assert int(meta["resourceVersion"]) == int(store.resource_version)
    assert "status" not in created  # status goes through the status subresource only
    assert job["metadata"] == {"name": "j"}  # the caller's object is not modified


def test_nodes_keep_status_on_create_as_kubelets_register(store: Store) -> None:
    node = store.create("", "nodes", edge_node("edge-0"))
    assert node["status"]["conditions"] == [{"type": "Ready", "status": "True"}]


def test_generate_name_and_already_exists(store: Store) -> None:
    first = store.create("", "configmaps", {"metadata": {"generateName": "cfg-"}}, namespace="default")
    assert first["metadata"]["name"].startswith("cfg-") and len(first["metadata"]["name"]) == 9
    store.create("", "configmaps", {"metadata": {"name": "a"}}, namespace="default")
    assert _codes(lambda: store.create("", "configmaps", {"metadata": {"name": "a"}},
                                       namespace="default")) == (409, "AlreadyExists")
    assert _codes(lambda: store.create("", "configmaps", {"metadata": {"name": "a"}},
                                       namespace="missing")) == (404, "NotFound")
    assert _codes(lambda: store.create("", "configmaps", {"metadata": {"name": "Bad_Name"}},
                                       namespace="default")) == (422, "Invalid")


def test_generation_bumps_on_spec_changes_only(store: Store) -> None:
    store.create(*IPPJ, prepull_job("j"))
    labelled = store.patch(*IPPJ[:2], "j", {"metadata": {"labels": {"a": "b"}}}, "merge")
    assert labelled["metadata"]["generation"] == 1
    with_status = store.patch(*IPPJ, "j", {"status": {"phase": "Init"}}, "merge", subresource="status")
    assert with_status["metadata"]["generation"] == 1
    edited = store.patch(*IPPJ, "j", {"spec": {"imagePrePullTemplate": {"concurrency": 3}}}, "merge")
    assert edited["metadata"]["generation"] == 2
    assert edited["status"] == {"phase": "Init"}


def test_main_resource_update_keeps_stored_status_and_status_update_keeps_spec(store: Store) -> None:
    store.create(*IPPJ, prepull_job("j"))
    store.mutate(*IPPJ, "j", lambda o: o.update(status={"phase": "InProgress"}), subresource="status")
    current = store.get(*IPPJ, "j")
    current["status"] = {"phase": "Completed"}
    current["spec"]["imagePrePullTemplate"]["images"] = ["x:1"]
    updated = store.update(*IPPJ, current)
    assert updated["status"] == {"phase": "InProgress"}
    assert updated["spec"]["imagePrePullTemplate"]["images"] == ["x:1"]
    current = store.get(*IPPJ, "j")
    current["status"] = {"phase": "Completed"}
    current["spec"]["imagePrePullTemplate"]["images"] = ["ignored:1"]
    via_status = store.update(*IPPJ, current, subresource="status")
    assert via_status["status"] == {"phase": "Completed"}
    assert via_status["spec"]["imagePrePullTemplate"]["images"] == ["x:1"]


def test_stale_resource_version_conflicts_and_noop_update_keeps_version(store: Store) -> None:
    created = store.create("", "nodes", edge_node("edge-0"))
    same = store.update("", "nodes", created)
    assert same["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]
    created["metadata"]["labels"]["site"] = "a"
    store.update("", "nodes", created)
    assert _codes(lambda: store.update("", "nodes", created)) == (409, "Conflict")


def test_finalizers_hold_deletion_until_removed(store: Store) -> None:
    job = prepull_job("j")
    job["metadata"]["finalizers"] = ["kubeedge.io/imageprepulljob-controller"]
    store.create(*IPPJ, job)
    pending = store.delete(*IPPJ, "j")
    assert pending["metadata"]["deletionTimestamp"]
    assert store.get(*IPPJ, "j")["metadata"]["deletionTimestamp"]
    store.mutate(*IPPJ, "j", lambda o: o["metadata"].pop("finalizers"))
    assert _codes(lambda: store.get(*IPPJ, "j")) == (404, "NotFound")


def test_multi_version_stored_once_and_served_at_each_version(store: Store) -> None:
    store.create(*IPPJ, prepull_job("j", "v1alpha1"), version="v1alpha1")
    assert store.get(*IPPJ, "j", version="v1alpha1")["apiVersion"] == "operations.kubeedge.io/v1alpha1"
    assert store.get(*IPPJ, "j")["apiVersion"] == "operations.kubeedge.io/v1alpha2"
    old = new_store("1.16")
    assert old.resource(*IPPJ).versions == ("v1alpha1",)
    assert _codes(lambda: old.get(*IPPJ, "j", version="v1alpha2")) == (404, "NotFound")


@pytest.mark.parametrize(("selector", "expected"), [
    pytest.param("site=a", ["n0", "n2"], id="equality"),
    pytest.param("site==a", ["n0", "n2"], id="double-equals"),
    pytest.param("site!=a", ["n1", "n3"], id="inequality-includes-missing-key"),
    pytest.param("site in (a,b)", ["n0", "n1", "n2"], id="in"),
    pytest.param("site notin (a)", ["n1", "n3"], id="notin"),
    pytest.param("site", ["n0", "n1", "n2"], id="exists"),
    pytest.param("!site", ["n3"], id="not-exists"),
    pytest.param("site=a,tier=gold", ["n2"], id="conjunction"),
])
def test_label_selectors(store: Store, selector: str, expected: list[str]) -> None:
    labels = [{"site": "a"}, {"site": "b"}, {"site": "a", "tier": "gold"}, {}]
    for i, extra in enumerate(labels):
        store.create("", "nodes", edge_node(f"n{i}", extra))
    items, _, _ = store.list("", "nodes", label_selector=selector)
    assert [i["metadata"]["name"] for i in items] == expected


def test_field_selector_and_bad_selectors(store: Store) -> None:
    for i in range(3):
        store.create("", "nodes", edge_node(f"n{i}"))
    items, _, _ = store.list("", "nodes", field_selector="metadata.name=n1")
    assert [i["metadata"]["name"] for i in items] == ["n1"]
    store.patch("", "nodes", "n2", {"spec": {"unschedulable": True}}, "merge")
    items, _, _ = store.list("", "nodes", field_selector="spec.unschedulable=true,metadata.name!=n0")
    assert [i["metadata"]["name"] for i in items] == ["n2"]
    assert _codes(lambda: store.list("", "nodes", field_selector="name")) == (400, "BadRequest")
    assert _codes(lambda: store.list("", "nodes", label_selector="a in b")) == (400, "BadRequest")


def test_paging_visits_every_object_once_and_token_expires() -> None:
    small = new_store(history=20)
    for i in range(25):
        small.create("", "nodes", edge_node(f"n{i:02d}"))
    names: list[str] = []
    items, rv, token = small.list("", "nodes", limit=10)
    names += [i["metadata"]["name"] for i in items]
    while token:
        items, page_rv, token = small.list("", "nodes", limit=10, continue_token=token)
        assert page_rv == rv
        names += [i["metadata"]["name"] for i in items]
    assert names == [f"n{i:02d}" for i in range(25)]
    _, _, stale = small.list("", "nodes", limit=5)
    for i in range(25):  # another type's churn leaves the nodes' history alone
        small.create("", "configmaps", {"metadata": {"name": f"c{i}"}}, namespace="default")
    assert len(small.list("", "nodes", limit=5, continue_token=stale)[0]) == 5
    for i in range(21):  # one more node event than the history holds since the list
        small.patch("", "nodes", "n00", {"metadata": {"labels": {"i": str(i)}}}, "merge")
    assert _codes(lambda: small.list("", "nodes", limit=5, continue_token=stale)) == (410, "Expired")


def test_watch_resumes_from_a_version_and_expires_outside_history() -> None:
    small = new_store(history=10)
    small.create("", "nodes", edge_node("n0"))
    mark = small.resource_version
    small.create("", "nodes", edge_node("n1"))
    small.patch("", "nodes", "n0", {"metadata": {"labels": {"x": "y"}}}, "merge")
    small.delete("", "nodes", "n1")
    events = [(e.type, e.object["metadata"]["name"])
              for e in small.watch("", "nodes", resource_version=mark, timeout=0.3)]
    assert events == [("ADDED", "n1"), ("MODIFIED", "n0"), ("DELETED", "n1")]
    for i in range(12):
        small.create("", "nodes", edge_node(f"m{i}"))
    assert _codes(lambda: small.watch("", "nodes", resource_version=mark)) == (410, "Expired")


def test_node_churn_cannot_expire_a_job_watch() -> None:
    small = new_store(history=10)
    small.create(*IPPJ, prepull_job("j"))
    mark = small.resource_version
    small.patch(*IPPJ, "j", {"metadata": {"labels": {"a": "b"}}}, "merge")
    for i in range(30):  # three histories' worth of node heartbeats
        small.create("", "nodes", edge_node(f"n{i}"))
    events = [(e.type, e.object["metadata"]["labels"])
              for e in small.watch(*IPPJ, resource_version=mark, timeout=0.3)]
    assert events == [("MODIFIED", {"a": "b"})]
    # resourceVersions stay global: the node watch from the same mark has lost its history
    assert _codes(lambda: small.watch("", "nodes", resource_version=mark)) == (410, "Expired")


def test_watch_without_version_lists_first_then_follows_and_bookmarks(store: Store) -> None:
    store.create("", "nodes", edge_node("n0"))
    stream = store.watch("", "nodes", bookmarks=True, timeout=2)
    first = next(stream)
    assert (first.type, first.object["metadata"]["name"]) == ("ADDED", "n0")
    threading.Timer(0.05, lambda: store.create("", "nodes", edge_node("n1"))).start()
    second = next(stream)
    assert (second.type, second.object["metadata"]["name"]) == ("ADDED", "n1")
    bookmark = next(stream)
    assert bookmark.type == "BOOKMARK"
    assert bookmark.object["metadata"]["resourceVersion"] == store.resource_version
    stream.close()


def test_subscribe_sees_every_commit_in_order(store: Store) -> None:
    seen: list[tuple[str, str, str]] = []
    unsubscribe = store.subscribe(lambda kind, rt, obj: seen.append(
        (kind, rt.plural, obj["metadata"]["resourceVersion"])))
    store.create("", "nodes", edge_node("n0"))
    store.patch("", "nodes", "n0", {"status": {"conditions": [{"type": "Ready", "status": "False"}]}},
                "strategic", subresource="status")
    store.delete("", "nodes", "n0")
    unsubscribe()
    store.create("", "nodes", edge_node("n1"))
    assert [s[:2] for s in seen] == [("ADDED", "nodes"), ("MODIFIED", "nodes"), ("DELETED", "nodes")]
    assert [int(s[2]) for s in seen] == sorted(int(s[2]) for s in seen)


def test_crd_created_at_run_time_is_served_and_unregistered_on_delete(store: Store) -> None:
    crd = {"metadata": {"name": "widgets.example.io"},
           "spec": {"group": "example.io", "scope": "Namespaced",
                    "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
                    "versions": [{"name": "v1", "served": True, "storage": True,
                                  "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                                      "spec": {"type": "object",
                                               "properties": {"size": {"type": "integer"}}}}}}}]}}
    created = store.create("apiextensions.k8s.io", "customresourcedefinitions", crd)
    assert {c["type"] for c in created["status"]["conditions"]} == {"NamesAccepted", "Established"}
    widget = store.create("example.io", "widgets", {"metadata": {"name": "w"},
                                                    "spec": {"size": 2, "colour": "red"}},
                          namespace="default")
    assert widget["spec"] == {"size": 2}  # pruned like a structural schema
    store.delete("apiextensions.k8s.io", "customresourcedefinitions", "widgets.example.io")
    assert _codes(lambda: store.resource("example.io", "widgets")) == (404, "NotFound")
