"""Rollout metrics (docs/rollout.md "Metrics"): the reasons a plan holds work back, per group,
as Prometheus gauges; set by the running controller from each cycle's plan."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal

from prometheus_client import CollectorRegistry

from reconciler.cli.demo_change import send_push_webhook
from reconciler.controller.daemon import Controller
from reconciler.controller.rollout_metrics import RolloutMetrics
from reconciler.kubeedge import V1ALPHA2
from reconciler.manifests.rollout_policy import RolloutPolicy, Wave
from reconciler.observed.rollouts import rollout_from_object
from reconciler.planner import plan
from reconciler.planner.rollout import REASONS
from tests.controller.conftest import WEBHOOK_SECRET, FleetEnv, wait_until
from tests.fleet_builders import BELONGING, NOW, fleet, group, node_object, nodes_facts


def _gauges(registry: CollectorRegistry, group: str) -> dict[str, float | None]:
    values = {reason: registry.get_sample_value("edgefleet_rollout_gated_nodes",
                                                {"group": group, "reason": reason}) for reason in REASONS}
    for name in ("wave", "halted", "paused"):  # the state gauges, beside the reasons
        values[f"rollout_{name}"] = registry.get_sample_value(f"edgefleet_rollout_{name}", {"group": group})
    return values


def test_each_plan_sets_the_gauges_and_a_missing_plan_keeps_them() -> None:
    registry = CollectorRegistry()
    metrics = RolloutMetrics(registry)
    shops = replace(group("shops", ["nginx:1.25"], node_group="shops"),
                    rollout=RolloutPolicy(waves=(Wave(count=2), Wave(share=Decimal(1)))))
    nodes = nodes_facts(*(node_object(f"shop-{i}", labels={BELONGING: "shops"}) for i in range(8)))
    first = plan(fleet(shops), nodes, [], [], now=NOW, revision="a", job_api_version=V1ALPHA2)
    metrics.record(first)
    assert _gauges(registry, "shops") == {"waiting-wave": 6, "waiting-window": 0, "waiting-bandwidth": 0,
                                          "halted": 0, "paused": 0, "rollout_wave": 0, "rollout_halted": 0,
                                          "rollout_paused": 0}
    metrics.record(None)  # a failed cycle: the last numbers stay
    assert _gauges(registry, "shops")["waiting-wave"] == 6
    paused = {"shops": rollout_from_object({"metadata": {"name": "shops"}, "spec": {"paused": True}})}
    metrics.record(plan(fleet(shops), nodes, [], [], now=NOW, revision="a", job_api_version=V1ALPHA2,
                        rollouts=paused))
    gauges = _gauges(registry, "shops")
    assert (gauges["rollout_paused"], gauges["paused"], gauges["waiting-wave"]) == (1, 8, 0)
    unrolled = replace(shops, rollout=None)  # the policy is removed in git: its series go
    metrics.record(plan(fleet(unrolled), nodes, [], [], now=NOW, revision="b", job_api_version=V1ALPHA2))
    assert set(_gauges(registry, "shops").values()) == {None}


NIGHT_LINE = """\
apiVersion: edgefleet.io/v1alpha1
kind: NodeGroupImages
metadata: {{name: night-line}}
spec:
  nodes: {{names: [{names}]}}
  images: [registry.example.com/e2e/night-agent:1.0.0]
  windows:
    - {{schedule: "0 0 1 1 *", duration: 1m}}   # one minute a year: closed in this test
"""


def test_a_running_controller_exports_why_a_group_waits(fleet_env: FleetEnv,
                                                      start_controller: Callable[..., Controller]) -> None:
    controller = start_controller()
    assert wait_until(lambda: controller.state.snapshot().ready, 20)
    names = fleet_env.cluster.edge_names()[:3]
    revision = fleet_env.repo.commit("groups/night-line.yaml", NIGHT_LINE.format(names=", ".join(names)),
                                     "night line: pulls only in its window")
    fleet_env.repo.push()
    assert send_push_webhook(controller.url, WEBHOOK_SECRET, branch="main", revision=revision) == 202

    def waiting() -> bool:
        return controller.registry.get_sample_value(
            "edgefleet_rollout_gated_nodes", {"group": "night-line", "reason": "waiting-window"}) == 3

    assert wait_until(waiting, 30), _gauges(controller.registry, "night-line")
    assert _gauges(controller.registry, "night-line")["rollout_halted"] == 0
    night = "registry.example.com/e2e/night-agent:1.0.0"
    assert not [j for j in fleet_env.managed_jobs() if night in j["spec"]["imagePrePullTemplate"]["images"]]
