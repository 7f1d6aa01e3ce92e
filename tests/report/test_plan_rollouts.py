"""Why work is held back, as a reader of `plan` sees it (docs/rollout.md "In the plan"): the
Markdown plan says it in words per group, the JSON plan counts it per group and reason."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from reconciler.kubeedge import V1ALPHA2
from reconciler.manifests.rollout_policy import RolloutPolicy, Wave, Window
from reconciler.observed import inventory_from_object
from reconciler.observed.rollouts import rollout_from_object
from reconciler.planner import Plan, plan
from reconciler.report import render_plan
from tests.fleet_builders import BELONGING, NOW, fleet, group, node_object, nodes_facts

NGINX = "docker.io/library/nginx:1.25"
NAMES = [f"shop-{i}" for i in range(8)]


def _plan(policy: RolloutPolicy, *, inventories: Any = (), records: Any = None) -> Plan:
    shops = replace(group("shops", ["nginx:1.25"], node_group="shops"), rollout=policy)
    nodes = nodes_facts(*(node_object(n, labels={BELONGING: "shops"}) for n in NAMES))
    return plan(fleet(shops), nodes, [], list(inventories), now=NOW, revision="c0ffee",
                job_api_version=V1ALPHA2, rollouts=records)


def test_a_closed_window_is_named_with_its_next_opening() -> None:
    night = RolloutPolicy(windows=(Window("0 1 * * *", 4 * 3600, "Asia/Shanghai"),))
    result = _plan(night)  # 12:00 UTC is 20:00 in Shanghai
    text = render_plan(result.to_dict(), "markdown")
    assert "Held back: 8 nodes wait for a maintenance window to open (`waiting-window`)." in text
    assert "Next: waiting for a maintenance window: the next opens at 2025-07-01T17:00:00Z." in text
    (entry,) = result.to_dict()["rollouts"]
    assert entry["heldBack"] == {"waiting-window": 8}
    assert entry["nextAt"] == "2025-07-01T17:00:00Z"
    assert result.revisit_at == datetime(2025, 7, 1, 17, 0, tzinfo=UTC)


def test_waves_and_a_halt_are_said_in_words() -> None:
    waves = RolloutPolicy(waves=(Wave(count=2), Wave(share=Decimal(1))), failure_budget=Decimal("0.1"))
    waiting = render_plan(_plan(waves).to_dict(), "markdown")
    assert "Held back: 6 nodes wait for their wave to open (`waiting-wave`)." in waiting
    failed = [inventory_from_object({"metadata": {"name": n, "resourceVersion": "1"}, "status": {
        "failures": [{"image": NGINX, "attempts": 1, "lastError": "not found",
                      "lastAttempt": "2025-07-01T11:00:00Z", "lastJob": "ef-x",
                      "retryAfter": "2025-07-01T11:30:00Z"}]}}) for n in NAMES]
    halted = _plan(waves, inventories=failed)
    text = render_plan(halted.to_dict(), "markdown")
    assert "**halted**: 2 of 2 nodes tried failed, over the failure budget of 10.0%." in text
    assert "8 nodes held: the rollout is halted (over its failure budget) (`halted`)" in text
    assert halted.to_dict()["rollouts"][0]["heldBack"] == {"halted": 8}


def test_a_paused_rollout_says_so() -> None:
    paused = {"shops": rollout_from_object({"metadata": {"name": "shops"}, "spec": {"paused": True}})}
    result = _plan(RolloutPolicy(waves=(Wave(count=2),)), records=paused)
    text = render_plan(result.to_dict(), "markdown")
    assert "8 nodes held: the rollout is paused (`paused`)" in text
    assert "Next: paused: `edgefleet rollout resume` continues." in text
