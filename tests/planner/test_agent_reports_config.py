"""FleetConfig spec.agentReports (docs/agent.md): the committed limits decide how far `plan`,
`sync` and the daemon (all through plan_revision) trust the edge agents' reports."""

from __future__ import annotations

from datetime import timedelta

from reconciler.kubeedge import V1ALPHA2
from reconciler.manifests import load_fleet
from reconciler.observed import ClusterFacts
from reconciler.planner import PlannerSettings, plan_revision
from tests.fleet_builders import NOW, nodes_facts
from tests.planner.test_agent_trust import NGINX, agent, inventory, line_node

GROUP = b"""apiVersion: edgefleet.io/v1alpha1
kind: NodeGroupImages
metadata: {name: line}
spec:
  nodes: {nodeGroup: line}
  images: [nginx:1.25, redis:7]
"""


def config(spec: str) -> bytes:
    return f"apiVersion: edgefleet.io/v1alpha1\nkind: FleetConfig\nspec:\n{spec}".encode()


def unknown_pairs(files: dict[str, bytes], report_age: timedelta) -> tuple[int, tuple[str, ...]]:
    loaded = load_fleet(files)
    assert loaded.fleet is not None, [str(e) for e in loaded.errors]
    facts = ClusterFacts(nodes=nodes_facts(line_node("edge-a")), jobs=[],
                         inventories=[inventory("edge-a", agent({NGINX: 1}, age=report_age))],
                         job_api_version=V1ALPHA2, inventory_served=True)
    made = plan_revision(loaded.fleet, facts, now=NOW, revision="c0ffee", settings=PlannerSettings())
    return made.summary.pairs_unknown, made.warnings


def test_a_report_younger_than_the_default_two_hours_is_trusted() -> None:
    assert unknown_pairs({"g.yaml": GROUP}, timedelta(hours=1)) == (0, ())


def test_a_shorter_stale_after_makes_the_same_report_stale_and_says_so() -> None:
    files = {"f.yaml": config("  agentReports: {staleAfter: 30m}\n"), "g.yaml": GROUP}
    unknown, warnings = unknown_pairs(files, timedelta(hours=1))
    assert unknown == 2  # the node is planned from job evidence alone, as without an agent
    assert any("edge-a" in w and "30m" in w for w in warnings), warnings


def test_bad_agent_report_settings_are_errors_at_their_line() -> None:
    files = {"f.yaml": config("  agentReports: {staleAfter: soon, gcHighThresholdPercent: 120}\n"),
             "g.yaml": GROUP}
    errors = [str(e) for e in load_fleet(files).errors]
    assert any(e.startswith("f.yaml:4:") and 'duration "soon"' in e for e in errors), errors
    assert any(e.startswith("f.yaml:4:") and "gcHighThresholdPercent" in e for e in errors), errors
