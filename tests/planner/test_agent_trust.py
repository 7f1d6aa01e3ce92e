"""The planner trusts fresh edge agent reports (planner/agent_trust.py, docs/agent.md): table tests
of plan() with `status.agent` in the EdgeNodeInventory objects."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from reconciler.inventory import format_time
from reconciler.kubeedge import V1ALPHA2
from reconciler.observed import InventoryFacts, inventory_from_object
from reconciler.planner import Plan, plan
from reconciler.planner.agent_trust import AgentTrust
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
OTHER = "docker.io/library/busybox:1.36"
LINE = group("line", ["nginx:1.25", "redis:7"], node_group="line")
GIB = 1024**3
MIB = 1024**2


def line_node(name: str, images: tuple[str, ...] = ()) -> dict[str, Any]:
    return node_object(name, labels={BELONGING: "line"}, images=[[i] for i in images])


def agent(held: dict[str, int], *, age: timedelta = timedelta(minutes=10), complete: bool = True,
          used: int | None = None, capacity: int | None = None) -> dict[str, Any]:
    """A `status.agent` taken `age` before NOW: image -> size."""
    report: dict[str, Any] = {
        "images": [{"image": i, "sizeBytes": s} for i, s in sorted(held.items())],
        "complete": complete, "observedAt": format_time(NOW - age), "contentHash": "sha256:x"}
    if used is not None:
        report["imageFsUsedBytes"] = used
    if capacity is not None:
        report["imageFsCapacityBytes"] = capacity
    return report


def inventory(node: str, report: dict[str, Any] | None, confirmed: dict[str, timedelta] | None = None
              ) -> InventoryFacts:
    """An EdgeNodeInventory with an agent report and job confirmations (image -> age at NOW)."""
    status: dict[str, Any] = {"images": [
        {"image": i, "source": "job/ef-old", "observedAt": format_time(NOW - age)}
        for i, age in sorted((confirmed or {}).items())]}
    if report is not None:
        status["agent"] = report
    return inventory_from_object({"metadata": {"name": node, "resourceVersion": "1"}, "status": status})


def run(nodes: list[dict[str, Any]], inventories: list[InventoryFacts], jobs: tuple[dict[str, Any], ...] = (),
        trust: AgentTrust | None = AgentTrust()) -> Plan:
    return plan(fleet(LINE), nodes_facts(*nodes), jobs_facts(*jobs), inventories, now=NOW,
                revision="c0ffee", job_api_version=V1ALPHA2, agents=trust)


def targeted(result: Plan) -> set[str]:
    """Nodes some new job targets (a job carries its group's whole image set: a held image is a
    cheap no-op on the edge, so what is missing shows in the counts)."""
    return {node for job in result.create for node in job.node_names}


def test_fresh_report_makes_absent_pairs_missing_and_held_ones_present() -> None:
    result = run([line_node("edge-a"), line_node("edge-b")],
                 [inventory("edge-a", agent({NGINX: 50 * MIB, OTHER: 5 * MIB}))])
    # edge-a: nginx held (present), redis missing; edge-b has no report: both unknown as today.
    line = result.groups[0].counts
    assert (line.pairs_present, line.pairs_missing, line.pairs_unknown) == (1, 1, 2)
    assert targeted(result) == {"edge-a", "edge-b"}
    assert result.to_dict()["agent"] == {
        "nodesWithReport": 1, "nodesStale": 0, "nodesWithoutReport": 1, "pairsEvicted": 0,
        "nodesDeferredDisk": 0, "staleAfter": "2h", "staleNodes": []}


def test_every_desired_image_held_plans_nothing_with_zero_unknown() -> None:
    result = run([line_node("edge-a")], [inventory("edge-a", agent({NGINX: 1, REDIS: 1}))])
    assert result.create == () and result.summary.pairs_unknown == 0
    assert result.summary.pairs_present == 2


def test_image_confirmed_by_a_job_then_gone_from_a_later_report_is_evicted_and_replanned() -> None:
    inv = inventory("edge-a", agent({NGINX: 1}, age=timedelta(minutes=5)),
                    confirmed={NGINX: timedelta(hours=3), REDIS: timedelta(hours=3)})
    result = run([line_node("edge-a")], [inv])
    assert targeted(result) == {"edge-a"}
    assert result.summary.pairs_missing == 1 and result.to_dict()["agent"]["pairsEvicted"] == 1
    # The inventory stops claiming the evicted image (its job confirmation is forgotten).
    (update,) = result.inventory_updates
    assert [i.image for i in update.status.images] == [NGINX]
    assert "agent" not in update.status_dict()


def test_a_confirmation_newer_than_the_report_wins_the_report_predates_the_pull() -> None:
    inv = inventory("edge-a", agent({NGINX: 1}, age=timedelta(minutes=30)),
                    confirmed={REDIS: timedelta(minutes=10)})
    result = run([line_node("edge-a")], [inv])
    assert result.create == () and result.inventory_updates == ()
    assert result.to_dict()["agent"]["pairsEvicted"] == 0


def test_a_finished_job_older_than_the_report_does_not_reconfirm_an_evicted_image() -> None:
    # The job that pulled redis (finished 11:05) is still in the cluster; the report (11:50)
    # no longer lists redis: the old evidence must not put it back into the inventory.
    job = job_object("ef-line-0123456789", [NGINX, REDIS], ["edge-a"], created="2025-07-01T11:00:00Z",
                     status=v2_status("Completed", {"edge-a": ("Successful", {NGINX: True, REDIS: True})}))
    inv = inventory("edge-a", agent({NGINX: 1}), confirmed={NGINX: timedelta(minutes=50),
                                                            REDIS: timedelta(minutes=50)})
    result = run([line_node("edge-a")], [inv], jobs=(job,))
    assert targeted(result) == {"edge-a"} and result.summary.pairs_missing == 1
    (update,) = result.inventory_updates
    assert [i.image for i in update.status.images] == [NGINX]


def test_a_job_that_finished_after_the_report_confirms_the_repull() -> None:
    job = job_object("ef-line-0123456789", [REDIS], ["edge-a"], created="2025-07-01T11:52:00Z",
                     status=v2_status("Completed", {"edge-a": ("Successful", {REDIS: True})},
                                      time="2025-07-01T11:55:00Z"))
    inv = inventory("edge-a", agent({NGINX: 1}), confirmed={NGINX: timedelta(hours=3)})
    result = run([line_node("edge-a")], [inv], jobs=(job,))
    assert result.create == () and result.summary.pairs_present == 2


@pytest.mark.parametrize(("report", "why"), [
    (agent({NGINX: 1}, age=timedelta(hours=2, minutes=1)), "older than staleAfter"),
    (agent({NGINX: 1}, complete=False), "not complete"),
])
def test_stale_or_incomplete_report_falls_back_to_todays_sources_and_says_so(
        report: dict[str, Any], why: str) -> None:
    inv = inventory("edge-a", report, confirmed={REDIS: timedelta(hours=3)})
    with_report = run([line_node("edge-a")], [inv])
    without = run([line_node("edge-a")], [inventory("edge-a", None, confirmed={REDIS: timedelta(hours=3)})])
    # Today's behaviour: the job-confirmed redis is present, nginx is unknown (no node list).
    assert targeted(with_report) == targeted(without) == {"edge-a"}, why
    assert with_report.summary.pairs_present == without.summary.pairs_present == 1
    assert with_report.summary.pairs_unknown == without.summary.pairs_unknown == 1
    assert with_report.to_dict()["agent"]["staleNodes"] == ["edge-a"]
    assert any("edge-a" in w and "older than 2h" in w for w in with_report.warnings)


def test_stale_bound_is_a_setting() -> None:
    inv = inventory("edge-a", agent({NGINX: 1, REDIS: 1}, age=timedelta(minutes=40)))
    assert run([line_node("edge-a")], [inv], trust=AgentTrust(stale_after=timedelta(minutes=30))
               ).to_dict()["agent"]["nodesStale"] == 1
    assert run([line_node("edge-a")], [inv]).create == ()


def test_without_trust_the_planner_ignores_reports_as_before() -> None:
    inv = inventory("edge-a", agent({NGINX: 1, REDIS: 1}))
    result = run([line_node("edge-a")], [inv], trust=None)
    assert targeted(result) == {"edge-a"} and result.summary.pairs_unknown == 2
    assert "agent" not in result.to_dict()


def test_disk_full_node_is_deferred_with_the_reason_when_sizes_are_known() -> None:
    # edge-b's report gives redis's size (3 GiB); edge-a has 100 GiB, 84 GiB used: 1 GiB free
    # below the 85 % GC threshold. edge-c has room.
    sizes = {NGINX: 100 * MIB, REDIS: 3 * GIB}
    inventories = [
        inventory("edge-a", agent({NGINX: sizes[NGINX]}, used=84 * GIB, capacity=100 * GIB)),
        inventory("edge-b", agent(sizes, used=10 * GIB, capacity=100 * GIB)),
        inventory("edge-c", agent({NGINX: sizes[NGINX]}, used=10 * GIB, capacity=100 * GIB)),
    ]
    result = run([line_node("edge-a"), line_node("edge-b"), line_node("edge-c")], inventories)
    assert targeted(result) == {"edge-c"}
    (deferral,) = result.deferred
    assert deferral.node == "edge-a"
    assert deferral.reason == ("disk: 1 image(s) need 3.0 GiB but only 1.0 GiB is free below the "
                               "85% image GC threshold (agent report)")
    assert result.summary.nodes_deferred == 1 and result.to_dict()["agent"]["nodesDeferredDisk"] == 1


def test_disk_rule_needs_capacity_and_known_sizes() -> None:
    # No capacity reported, or no report gives the size: the node is planned as usual.
    no_capacity = inventory("edge-a", agent({NGINX: 1}, used=99 * GIB))
    assert targeted(run([line_node("edge-a")], [no_capacity])) == {"edge-a"}
    unknown_size = inventory("edge-a", agent({NGINX: 1}, used=84 * GIB, capacity=100 * GIB))
    assert targeted(run([line_node("edge-a")], [unknown_size])) == {"edge-a"}


def test_gc_threshold_is_a_setting() -> None:
    inventories = [inventory("edge-a", agent({NGINX: 1}, used=80 * GIB, capacity=100 * GIB)),
                   inventory("edge-b", agent({NGINX: 1, REDIS: 3 * GIB}))]
    nodes = [line_node("edge-a"), line_node("edge-b")]
    assert run(nodes, inventories).deferred == ()  # 5 GiB free below 85 %
    stricter = run(nodes, inventories, trust=AgentTrust(gc_high_percent=82))
    assert [d.node for d in stricter.deferred] == ["edge-a"]
