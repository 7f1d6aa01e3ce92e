"""The aggregation: what a reader of the report sees counted, ordered and listed."""

from __future__ import annotations

from datetime import timedelta

import pytest

from reconciler.drift.aggregate import convergence
from reconciler.drift.reasons import Reason
from reconciler.drift.report import UNLABELLED, DriftSettings, GroupTotals, PairDetail

from .conftest import NOW, ZONE, Node, nodes, pair, report


def test_counts_per_reason_group_site_and_image() -> None:
    pairs = [
        pair("edge-000", "nginx:1", Reason.FAILED, detail=PairDetail(attempt=5, attempt_limit=5)),
        pair("edge-000", "redis:7", Reason.FAILED),
        pair("edge-001", "nginx:1", Reason.DEFERRED_OFFLINE),
        pair("edge-003", "nginx:1", Reason.IN_FLIGHT, group="lines"),
    ]
    groups = [GroupTotals("shops", 50, 47), GroupTotals("lines", 50, 49), GroupTotals("idle", 10, 10)]
    r = report(pairs, groups=groups)
    assert (r.summary.pairs_drifting, r.summary.nodes_drifting, r.summary.nodes) == (4, 3, 10)
    s = r.summary
    assert (s.pairs_desired, s.pairs_present, s.convergence_percent) == (110, 106, 96.36)
    reasons = {a.key: (a.pairs, a.nodes, a.failed_nodes) for a in r.aggregates.reasons}
    assert reasons == {"failed": (2, 1, 1), "deferred-offline": (1, 1, 0), "in-flight": (1, 1, 0)}
    shops = next(a for a in r.aggregates.groups if a.key == "shops")
    assert (shops.pairs, shops.nodes, shops.failed_nodes, shops.convergence_percent) == (3, 2, 1, 94.0)
    assert shops.reasons == {"deferred-offline": 1, "failed": 2}
    idle = next(a for a in r.aggregates.groups if a.key == "idle")
    assert (idle.pairs, idle.oldest_since, idle.convergence_percent) == (0, None, 100.0)
    assert r.aggregates.groups[-1].key == "idle"  # groups without drift come last
    sites = {a.key: (a.pairs, a.nodes, a.failed_nodes) for a in r.aggregates.sites}
    assert sites == {"zone-0": (3, 2, 1), "zone-1": (1, 1, 0)}  # edge-000 and -003 are in zone-0
    images = {a.key: (a.pairs, a.nodes, a.failed_nodes) for a in r.aggregates.images}
    assert images == {"nginx:1": (3, 3, 1), "redis:7": (1, 1, 1)}


def test_worst_first_oldest_drift_then_most_failed_nodes() -> None:
    pairs = [
        pair("edge-000", "a:1", age=timedelta(days=3), group="old"),
        pair("edge-001", "a:1", Reason.FAILED, age=timedelta(days=1), group="failing"),
        pair("edge-002", "a:1", Reason.FAILED, age=timedelta(days=1), group="failing"),
        pair("edge-003", "a:1", Reason.FAILED, age=timedelta(days=1), group="one-failed"),
    ]
    r = report(pairs, groups=[])
    assert [a.key for a in r.aggregates.groups] == ["old", "failing", "one-failed"]
    assert r.aggregates.groups[0].oldest_since == NOW - timedelta(days=3)


def test_pairs_younger_than_min_age_are_settling_not_drift() -> None:
    pairs = [pair("edge-000", "a:1", age=timedelta(minutes=59)),
             pair("edge-001", "a:1", age=timedelta(hours=1))]
    r = report(pairs)
    assert (r.summary.pairs_drifting, r.summary.pairs_settling) == (1, 1)
    assert [p.node for p in r.pairs] == ["edge-001"]
    assert r.drifting
    calm = report([pair("edge-000", "a:1", age=timedelta(minutes=5))])
    assert not calm.drifting and calm.summary.pairs_settling == 1
    everything = report(pairs, settings=DriftSettings(min_age_seconds=0))
    assert everything.summary.pairs_drifting == 2


@pytest.mark.parametrize(("age", "bucket"), [
    pytest.param(timedelta(hours=1), "1h-6h", id="exactly-1h"),
    pytest.param(timedelta(hours=5, minutes=59), "1h-6h", id="under-6h"),
    pytest.param(timedelta(hours=6), "6h-1d", id="exactly-6h"),
    pytest.param(timedelta(days=29), "7d-30d", id="29d"),
    pytest.param(timedelta(days=30), ">= 30d", id="exactly-30d"),
    pytest.param(timedelta(days=400), ">= 30d", id="a-year"),
])
def test_age_histogram_buckets(age: timedelta, bucket: str) -> None:
    r = report([pair("edge-000", "a:1", age=age)])
    assert {b.label: b.pairs for b in r.age_histogram if b.pairs} == {bucket: 1}
    assert r.age_histogram[0].label == "< 1h"


def test_rows_are_the_oldest_pairs_capped_and_aggregates_count_all() -> None:
    fleet = nodes(300)
    pairs = [pair(n.name, f"img-{k}:1", age=timedelta(hours=2 + i))
             for i, n in enumerate(fleet) for k in range(4)]
    r = report(pairs, fleet=fleet, groups=[GroupTotals("shops", 2000, 800)],
               settings=DriftSettings(max_rows=10))
    assert r.summary.pairs_listed == 10 and len(r.pairs) == 10
    assert [(p.node, p.image) for p in r.pairs[:5]] == [
        ("edge-299", "img-0:1"), ("edge-299", "img-1:1"), ("edge-299", "img-2:1"), ("edge-299", "img-3:1"),
        ("edge-298", "img-0:1")]
    assert sum(a.pairs for a in r.aggregates.images) == 1200
    assert r.pairs[0].site == "zone-2"


def test_same_input_in_another_order_gives_the_same_report() -> None:
    pairs = [pair(f"edge-{i:03d}", "a:1", age=timedelta(hours=2)) for i in range(10)]
    first = report(pairs, settings=DriftSettings(max_rows=3))
    second = report(list(reversed(pairs)), settings=DriftSettings(max_rows=3))
    assert first == second
    assert [p.node for p in first.pairs] == ["edge-000", "edge-001", "edge-002"]


def test_nodes_without_the_site_label_and_unknown_nodes() -> None:
    fleet = [Node("edge-000", {ZONE: "zone-a"}), Node("edge-001", {}), Node("edge-002", {"other": "x"})]
    pairs = [pair("edge-000", "a:1"), pair("edge-001", "a:1"), pair("ghost", "a:1")]
    r = report(pairs, fleet=fleet)
    assert {a.key: a.pairs for a in r.aggregates.sites} == {"zone-a": 1, UNLABELLED: 2}
    relabelled = report(pairs, fleet=fleet, settings=DriftSettings(site_label="other"))
    assert {a.key for a in relabelled.aggregates.sites} == {UNLABELLED}


def test_no_drift() -> None:
    r = report([], groups=[GroupTotals("shops", 100, 100)])
    assert not r.drifting
    assert (r.summary.convergence_percent, r.summary.oldest_since, r.pairs) == (100.0, None, [])
    assert r.aggregates.reasons == [] and r.aggregates.sites == []


@pytest.mark.parametrize(("present", "desired", "percent"), [
    (999_999, 1_000_000, 99.99), (1, 3, 33.33), (0, 0, 100.0), (5, 5, 100.0)])
def test_convergence_is_rounded_down(present: int, desired: int, percent: float) -> None:
    assert convergence(present, desired) == percent
