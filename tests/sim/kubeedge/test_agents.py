"""The embedded cluster's edge agents (sim/kubeedge/agents.py): each simulated node's agent writes
its image store as `status.agent`, only on change or resync, and its edge image GC shows."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.sim.cluster import EmbeddedCluster, spread
from reconciler.sim.kubeedge.edge import GIB, Behaviour
from tests.sim.kubeedge.builders import MakeCluster

INVENTORIES = ("edgefleet.io", "edgenodeinventories")


def agent_of(cluster: EmbeddedCluster, node: str) -> dict[str, Any]:
    report: dict[str, Any] = cluster.store.get(*INVENTORIES, node)["status"]["agent"]
    return report


def listed(report: dict[str, Any]) -> set[str]:
    return {i["image"] for i in report["images"]}


def test_every_agent_writes_its_whole_store_within_one_interval(make_cluster: MakeCluster) -> None:
    cluster = make_cluster(agents=1.0)
    cluster.advance(61)
    for name, handle in cluster.nodes.items():
        report = agent_of(cluster, name)
        assert report["complete"] is True
        tags = {ref for ref in handle.images() if "@" not in ref}
        assert tags <= listed(report)  # every tag, plus each image's repo digest
        assert len(listed(report)) >= len(handle.images())
        assert report["imageFsCapacityBytes"] == handle.edge.disk_bytes


def test_no_write_while_nothing_changes_then_one_write_per_change(make_cluster: MakeCluster) -> None:
    cluster = make_cluster(agents=1.0)
    cluster.advance(61)
    before = cluster.agents.writes
    cluster.advance(20 * 60)  # twenty polls each, nothing changed, resync (30 min) not yet due
    assert cluster.agents.writes == before
    node = next(iter(cluster.nodes))
    handle = cluster.nodes[node]
    gone = sorted(r for r in handle.images() if "@" not in r)[0]
    assert handle.remove_image(gone)
    assert cluster.agents.writes == before + 1
    assert gone not in listed(agent_of(cluster, node))


def test_resync_rewrites_an_unchanged_report_with_a_new_time(make_cluster: MakeCluster) -> None:
    cluster = make_cluster(agents=1.0, nodes=2)
    cluster.advance(61)
    node = next(iter(cluster.nodes))
    first = agent_of(cluster, node)["observedAt"]
    cluster.advance(35 * 60)  # past 30 min + 10 % jitter
    again = agent_of(cluster, node)
    assert again["observedAt"] > first and cluster.agents.writes == 4


def test_an_offline_nodes_report_stops_being_refreshed(make_cluster: MakeCluster) -> None:
    cluster = make_cluster(agents=1.0, nodes=2)
    cluster.advance(61)
    node = next(iter(cluster.nodes))
    first = agent_of(cluster, node)["observedAt"]
    cluster.nodes[node].set_behaviour(Behaviour.OFFLINE)
    cluster.advance(3 * 3600)
    assert agent_of(cluster, node)["observedAt"] == first


def test_image_gc_evictions_show_in_the_report(make_cluster: MakeCluster) -> None:
    cluster = make_cluster(agents=1.0, nodes=2)
    cluster.advance(10 * 60)  # older than the GC's minimum age
    node = next(iter(cluster.nodes))
    handle = cluster.nodes[node]
    edge = handle.edge
    room = int(0.9 * edge.disk_bytes) - edge.disk_used()
    evicted = handle.pull_unmanaged("registry.example.com/pods/big:1", max(room, GIB))
    assert evicted, "the disk went past the GC high threshold: something must go"
    report = listed(agent_of(cluster, node))
    assert "registry.example.com/pods/big:1" in report
    assert report.isdisjoint(evicted)


@pytest.mark.parametrize(("share", "count"), [(0.0, 0), (0.25, 2), (0.5, 4), (1.0, 8)])
def test_a_share_of_nodes_runs_agents_spread_evenly(share: float, count: int) -> None:
    names = [f"edge-{i}" for i in range(8)]
    chosen = spread(names, share)
    assert len(chosen) == count
    if count == 2:
        assert chosen == ["edge-3", "edge-7"]


def test_without_agents_no_inventory_is_written(make_cluster: MakeCluster) -> None:
    cluster = make_cluster()
    cluster.advance(3600)
    assert cluster.store.list(*INVENTORIES)[0] == [] and cluster.agents.writes == 0
