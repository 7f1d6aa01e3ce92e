"""Seeded fleet generation."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson

from reconciler.sim.kubeedge.fleetgen import FleetOptions, fleet_node_objects, generate_fleet, node_list_json

START = datetime(2025, 7, 1, tzinfo=UTC)


def test_same_seed_same_fleet_other_seed_other_fleet() -> None:
    a = node_list_json(FleetOptions(nodes=60, seed=3), start=START)
    assert a == node_list_json(FleetOptions(nodes=60, seed=3), start=START)
    assert a != node_list_json(FleetOptions(nodes=60, seed=4), start=START)


def test_fleet_matches_the_example_repository() -> None:
    fleet = generate_fleet(FleetOptions(nodes=40), start=START)
    names = [e.name for e in fleet.edges]
    assert names[:4] == ["toll-a4-km012-01", "toll-a4-km012-02", "toll-a4-km047-01", "toll-a4-km047-02"]
    assert {g["metadata"]["name"] for g in fleet.node_groups} == {"factory-shanghai", "factory-suzhou"}
    shops = [e for e in fleet.edges if e.site.startswith("shop-")]
    assert shops and all("apps.kubeedge.io/belonging-to" not in e.labels for e in shops)
    assert all(20 <= len(e.images) <= 50 for e in fleet.edges)


def test_node_list_is_what_kubectl_prints() -> None:
    doc = orjson.loads(node_list_json(FleetOptions(nodes=30), start=START, image_cap=-1))
    assert (doc["apiVersion"], doc["kind"]) == ("v1", "List")
    items = doc["items"]
    edges = [n for n in items if "node-role.kubernetes.io/edge" in n["metadata"]["labels"]]
    assert (len(items), len(edges)) == (32, 30)  # plus two control-plane nodes
    fleet = generate_fleet(FleetOptions(nodes=30), start=START)
    assert items == orjson.loads(orjson.dumps(fleet_node_objects(fleet, START, image_cap=-1)))
    sizes = [i["sizeBytes"] for i in edges[0]["status"]["images"]]
    assert sizes == sorted(sizes, reverse=True) and len(sizes) >= 20
