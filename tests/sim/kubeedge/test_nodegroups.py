"""NodeGroup membership (docs/kubeedge.md §6.1)."""

from __future__ import annotations

from typing import Any

from reconciler.sim.kubeedge.nodegroups import BELONGING_LABEL, MemberNode, plan_membership


def group(name: str, nodes: list[str] | None = None, match: dict[str, str] | None = None,
          deleting: bool = False) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if deleting:
        meta["deletionTimestamp"] = "2025-07-01T08:00:00Z"
    return {"metadata": meta, "spec": {"nodes": nodes or [], "matchLabels": match}}


def member(site: str = "", owner: str | None = None, ready: str = "Ready") -> MemberNode:
    labels = {"site": site} if site else {}
    if owner:
        labels[BELONGING_LABEL] = owner
    return MemberNode(labels, ready)


def test_union_of_names_and_labels_is_labelled() -> None:
    plan = plan_membership([group("g", nodes=["a"], match={"site": "x"})],
                           {"a": member(), "b": member("x"), "c": member("y")})
    assert plan.labels == {"a": "g", "b": "g"}
    assert [s["selectionStatus"] for s in plan.statuses["g"]] == ["Succeeded", "Succeeded"]


def test_a_node_belongs_to_one_group_only() -> None:
    plan = plan_membership([group("a-first", nodes=["n"]), group("b-owner", nodes=["n"])],
                           {"n": member(owner="b-owner")})
    assert plan.labels == {}
    assert plan.statuses["a-first"] == [{
        "nodeName": "n", "readyStatus": "Ready", "selectionStatus": "Failed",
        "selectionStatusReason": "node n has already belonged to NodeGroup b-owner"}]


def test_unknown_names_fail_and_empty_match_labels_select_nothing() -> None:
    plan = plan_membership([group("g", nodes=["ghost"], match={})], {"a": member("x")})
    assert plan.labels == {}
    assert plan.statuses["g"][0]["selectionStatusReason"] == "node does not exist"


def test_leavers_and_members_of_deleted_groups_lose_the_label() -> None:
    plan = plan_membership([group("g", match={"site": "x"}), group("old", deleting=True)],
                           {"left": member("y", owner="g"), "orphan": member(owner="old"),
                            "foreign": member(owner="not-a-group")})
    assert plan.labels == {"left": None, "orphan": None}
