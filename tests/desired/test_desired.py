"""Desired state: node selection semantics, edge-only, conflicts between groups."""

from __future__ import annotations

import pytest

from reconciler.desired import desired_state
from reconciler.manifests.fleet import JobPolicy, LabelRequirement
from tests.fleet_builders import BELONGING, fleet, group, node_object, nodes_facts

NGINX = "docker.io/library/nginx:1.25"
REDIS = "docker.io/library/redis:7"

NODES = nodes_facts(
    node_object("edge-a", labels={BELONGING: "line", "zone": "east", "gpu": "yes"}),
    node_object("edge-b", labels={BELONGING: "line", "zone": "west"}),
    node_object("edge-c", labels={"zone": "north"}),
    node_object("edge-d", labels={}),
)


@pytest.mark.parametrize(
    ("kwargs", "selected"),
    [
        pytest.param({"node_group": "line"}, ["edge-a", "edge-b"], id="nodeGroup-label"),
        pytest.param({"names": ["edge-c", "edge-d"]}, ["edge-c", "edge-d"], id="names"),
        pytest.param({"match_labels": {"zone": "east"}}, ["edge-a"], id="matchLabels"),
        pytest.param({"expressions": [LabelRequirement("zone", "In", ("east", "north"))]},
                     ["edge-a", "edge-c"], id="In"),
        pytest.param({"expressions": [LabelRequirement("zone", "NotIn", ("east", "north"))]},
                     ["edge-b", "edge-d"], id="NotIn-includes-absent-key"),
        pytest.param({"expressions": [LabelRequirement("gpu", "Exists")]}, ["edge-a"], id="Exists"),
        pytest.param({"expressions": [LabelRequirement("zone", "DoesNotExist")]}, ["edge-d"],
                     id="DoesNotExist"),
        pytest.param({"match_labels": {BELONGING: "line"},
                      "expressions": [LabelRequirement("gpu", "DoesNotExist")]},
                     ["edge-b"], id="labels-AND-expressions"),
        pytest.param({}, ["edge-a", "edge-b", "edge-c", "edge-d"], id="empty-selector-matches-all"),
    ],
)
def test_selection(kwargs: dict[str, object], selected: list[str]) -> None:
    state = desired_state(fleet(group("g", ["nginx:1.25"], **kwargs)), NODES)  # type: ignore[arg-type]
    assert list(state.nodes) == selected
    assert state.group_nodes["g"] == tuple(selected)
    assert all(d.image_set == {NGINX} for d in state.nodes.values())


def test_union_of_groups_and_non_edge_nodes_skipped_with_warning() -> None:
    nodes = nodes_facts(node_object("edge-a", labels={BELONGING: "line"}),
                        node_object("cloud-1", labels={BELONGING: "line"}, edge=False))
    state = desired_state(fleet(group("base", ["redis:7"], names=["edge-a", "cloud-1"]),
                                group("line", ["nginx:1.25"], node_group="line")), nodes)
    assert list(state.nodes) == ["edge-a"]
    assert state.nodes["edge-a"].image_set == {NGINX, REDIS}
    assert {i: d.group for i, d in state.nodes["edge-a"].images.items()} == {NGINX: "line", REDIS: "base"}
    assert state.warnings == (
        "group base: 1 selected node(s) lack the label node-role.kubernetes.io/edge and are skipped: cloud-1",
        "group line: 1 selected node(s) lack the label node-role.kubernetes.io/edge and are skipped: cloud-1",
    )


@pytest.mark.parametrize(
    ("a_kwargs", "b_kwargs", "conflict"),
    [
        pytest.param({"secret": "ns/a"}, {"secret": "ns/b"}, True, id="different-secret"),
        pytest.param({"policy": JobPolicy(concurrency=1)}, {"policy": JobPolicy(concurrency=9)}, True,
                     id="different-policy"),
        pytest.param({}, {}, False, id="same-secret-and-policy"),
    ],
)
def test_conflict_first_group_by_name_wins(
    a_kwargs: dict[str, object], b_kwargs: dict[str, object], conflict: bool
) -> None:
    the_fleet = fleet(group("zeta", ["nginx:1.25"], node_group="line", **b_kwargs),  # type: ignore[arg-type]
                      group("alpha", ["nginx:1.25"], node_group="line", **a_kwargs))  # type: ignore[arg-type]
    state = desired_state(the_fleet, NODES)
    assert state.nodes["edge-a"].images[NGINX].group == "alpha"
    assert state.nodes["edge-a"].images[NGINX].secret == a_kwargs.get("secret")
    expected = ("image docker.io/library/nginx:1.25: groups alpha and zeta desire it with different "
                "secrets or policies on 2 node(s); alpha wins (first by name)",)
    assert state.warnings == (expected if conflict else ())


def test_named_node_that_does_not_exist_is_warned() -> None:
    state = desired_state(fleet(group("g", ["nginx:1.25"], names=["edge-a", "ghost"])), NODES)
    assert list(state.nodes) == ["edge-a"]
    assert state.warnings == ("group g: 1 named node(s) do not exist: ghost",)
