"""diff_fleets: what a change between two revisions does, per group."""

from __future__ import annotations

from reconciler.planner import diff_fleets
from tests.fleet_builders import BELONGING, fleet, group, node_object, nodes_facts

NODES = nodes_facts(
    node_object("edge-a", labels={BELONGING: "line"}, images=[["docker.io/library/nginx:1.26"]]),
    node_object("edge-b", labels={BELONGING: "line"}),
    node_object("edge-c", labels={BELONGING: "dock"}),
)


def test_tag_bump_new_group_and_removed_group() -> None:
    base = fleet(group("line", ["nginx:1.25", "redis:7"], node_group="line"),
                 group("old", ["busybox:1"], names=["edge-c"]))
    head = fleet(group("line", ["nginx:1.26", "redis:7"], node_group="line"),
                 group("dock", ["mosquitto:2"], node_group="dock"))
    changes = diff_fleets(base, head, NODES).to_dict()["groups"]
    assert changes == [
        {"name": "dock", "status": "added", "imagesAdded": ["docker.io/library/mosquitto:2"],
         "imagesRemoved": [], "nodesAdded": ["edge-c"], "nodesRemoved": [], "pairsBecomingMissing": 1},
        {"name": "line", "status": "changed", "imagesAdded": ["docker.io/library/nginx:1.26"],
         "imagesRemoved": ["docker.io/library/nginx:1.25"], "nodesAdded": [], "nodesRemoved": [],
         "pairsBecomingMissing": 1},  # edge-a already reports nginx:1.26
        {"name": "old", "status": "removed", "imagesAdded": [],
         "imagesRemoved": ["docker.io/library/busybox:1"],
         "nodesAdded": [], "nodesRemoved": ["edge-c"], "pairsBecomingMissing": 0},
    ]


def test_unchanged_fleet_has_no_changes() -> None:
    same = fleet(group("line", ["nginx:1.25"], node_group="line"))
    assert diff_fleets(same, same, NODES).groups == ()


def test_changes_name_their_base_revision() -> None:
    base = fleet(group("line", ["nginx:1.25"], node_group="line"))
    head = fleet(group("line", ["nginx:1.26"], node_group="line"))
    assert diff_fleets(base, head, NODES, base_revision="c0ffee").to_dict()["base"] == "c0ffee"
    assert diff_fleets(base, head, NODES).to_dict()["base"] is None
