"""Drift facts from the planner's own plan: one reason per missing pair, missingSince across runs."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from typing import Any

from reconciler.desired import desired_state
from reconciler.drift.facts import DriftFacts, drift_facts
from reconciler.drift.reasons import Reason
from reconciler.kubeedge import V1ALPHA2
from reconciler.manifests.rollout_policy import RolloutPolicy, Wave
from reconciler.observed import InventoryFacts, inventory_from_object
from reconciler.observed.cluster import ClusterFacts
from reconciler.observed.rollouts import rollout_from_object
from reconciler.planner import plan
from reconciler.planner.rollout import rollout_id
from tests.fleet_builders import (
    BELONGING,
    NOW,
    fleet,
    group,
    job_object,
    jobs_facts,
    node_object,
    nodes_facts,
    v2_status,
)

NGINX = "docker.io/library/nginx:1.25"
REDIS = "docker.io/library/redis:7"
LINE = fleet(group("line", ["nginx:1.25", "redis:7"], node_group="line"))


def node(name: str, images: tuple[str, ...] = (), ready: bool = True) -> dict[str, Any]:
    return node_object(name, labels={BELONGING: "line"}, images=[[i] for i in images], ready=ready)


def failures(name: str, attempts: int, retry_after: str) -> InventoryFacts:
    return inventory_from_object({
        "metadata": {"name": name, "resourceVersion": "1"},
        "status": {"failures": [{"image": NGINX, "attempts": attempts, "lastError": "pull: 404",
                                 "lastJob": "ef-line-old", "lastAttempt": "2025-07-01T10:00:00Z",
                                 "retryAfter": retry_after}]},
    })


def facts_of(nodes: list[dict[str, Any]], jobs: Any = (), inventories: Any = (), now: Any = NOW,
             previous: Any = None) -> DriftFacts:
    cluster = ClusterFacts(nodes=nodes_facts(*nodes), jobs=jobs_facts(*jobs), inventories=list(inventories),
                           job_api_version=V1ALPHA2, inventory_served=True)
    absent: dict[str, frozenset[str]] = {}
    made = plan(LINE, cluster.nodes, cluster.jobs, cluster.inventories, now=now, revision="c0ffee",
                job_api_version=V1ALPHA2, absent_into=absent)
    desired = desired_state(LINE, cluster.nodes)
    found = drift_facts(made, desired, cluster, now=now, previous=previous)
    # The absent images the plan found (what `survey` hands over) give the same facts.
    again = drift_facts(made, desired, cluster, now=now, previous=previous, absent=absent)
    assert (list(again.pairs), dict(again.missing_since)) == (list(found.pairs), dict(found.missing_since))
    return found


def reasons(result: DriftFacts) -> dict[tuple[str, str], Reason]:
    return {(p.node, p.image): p.reason for p in result.pairs}


def test_each_missing_pair_gets_the_reason_the_plan_implies() -> None:
    running = job_object("ef-line-running", [NGINX], ["edge-e"], created="2025-07-01T11:55:00Z",
                         status=v2_status("InProgress", {"edge-e": ("InProgress", {})}))
    result = facts_of(
        [node("edge-a", (REDIS,)), node("edge-b", (REDIS,), ready=False), node("edge-c", (REDIS,)),
         node("edge-d", (REDIS,)), node("edge-e", (REDIS,)), node("edge-f", (NGINX, REDIS))],
        jobs=[running],
        inventories=[failures("edge-c", 5, "2025-07-01T11:00:00Z"),
                     failures("edge-d", 1, "2025-07-01T12:30:00Z")],
    )
    assert reasons(result) == {
        ("edge-a", NGINX): Reason.NOT_YET_PLANNED,
        ("edge-b", NGINX): Reason.DEFERRED_OFFLINE,
        ("edge-c", NGINX): Reason.FAILED,
        ("edge-d", NGINX): Reason.BACKING_OFF,
        ("edge-e", NGINX): Reason.IN_FLIGHT,
    }
    by_node = {p.node: p for p in result.pairs}
    assert by_node["edge-c"].detail is not None and by_node["edge-c"].detail.last_error == "pull: 404"
    backing = by_node["edge-d"].detail
    assert backing is not None and backing.attempt == 1
    assert backing.next_retry_at == NOW + timedelta(minutes=30)
    assert {g.group: (g.pairs_desired, g.pairs_present) for g in result.groups} == {"line": (12, 7)}


def test_missing_since_is_kept_across_runs_and_dropped_when_present() -> None:
    first = facts_of([node("edge-a"), node("edge-b")])
    assert set(first.missing_since.values()) == {NOW}
    later = NOW + timedelta(hours=3)
    second = facts_of([node("edge-a", (NGINX,)), node("edge-b")], now=later, previous=first.missing_since)
    assert {p.node: p.since for p in second.pairs if p.image == NGINX} == {"edge-b": NOW}
    assert ("edge-a", NGINX) not in second.missing_since
    assert second.missing_since[("edge-a", REDIS)] == NOW
    again = facts_of([node("edge-a", (NGINX,)), node("edge-b")], now=later, previous={})
    assert {p.since for p in again.pairs} == {later}  # memory lost: the clock restarts at now


WAVES = RolloutPolicy(waves=(Wave(count=1), Wave(share=Decimal(1))), pause_seconds=1800)
ROLLED = replace(group("line", ["nginx:1.25"], node_group="line"), rollout=WAVES)


def rollout_reasons(*, paused: bool) -> dict[tuple[str, str], Reason]:
    cluster = ClusterFacts(nodes=nodes_facts(*(node(f"edge-{i}") for i in range(4))), jobs=[],
                           inventories=[], job_api_version=V1ALPHA2, inventory_served=True)
    record = rollout_from_object({"metadata": {"name": "line"}, "spec": {"group": "line", "paused": paused},
                                  "status": {"rolloutId": rollout_id(ROLLED), "wave": 0,
                                             "started": "2025-07-01T11:00:00Z"}})
    made = plan(fleet(ROLLED), cluster.nodes, [], [], now=NOW, revision="c0ffee",
                job_api_version=V1ALPHA2, rollouts={"line": record})
    return reasons(drift_facts(made, desired_state(fleet(ROLLED), cluster.nodes), cluster, now=NOW))


def test_pairs_the_rollout_holds_back_carry_the_gate_reason() -> None:
    running = rollout_reasons(paused=False)
    assert sorted(running.values()) == sorted([Reason.NOT_YET_PLANNED] + [Reason.WAITING_WAVE] * 3)
    assert set(rollout_reasons(paused=True).values()) == {Reason.PAUSED}


def test_pairs_of_one_node_missing_since_different_reports_keep_each_their_time() -> None:
    first = facts_of([node("edge-a", (REDIS,))])
    later, last = NOW + timedelta(hours=3), NOW + timedelta(hours=8)
    # The node loses redis (pruned by kubelet's image GC): a second pair goes missing later.
    second = facts_of([node("edge-a")], now=later, previous=first.missing_since)
    assert {p.image: p.since for p in second.pairs} == {NGINX: NOW, REDIS: later}
    third = facts_of([node("edge-a")], now=last, previous=second.missing_since)
    assert {p.image: p.since for p in third.pairs} == {NGINX: NOW, REDIS: later}
    assert dict(third.missing_since) == {("edge-a", NGINX): NOW, ("edge-a", REDIS): later}
    recovered = facts_of([node("edge-a", (NGINX,))], now=last, previous=third.missing_since)
    assert {p.image: p.since for p in recovered.pairs} == {REDIS: later}
