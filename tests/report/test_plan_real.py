"""Markdown of plans made by the real planner from a generated fleet (the shape the CLI prints)."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from reconciler.manifests import load_fleet
from reconciler.manifests.fleet import Fleet
from reconciler.manifests.imageref import normalize_image
from reconciler.observed import NodeFacts, decode_nodes
from reconciler.planner import Plan, diff_fleets, plan
from reconciler.report import render_plan
from reconciler.sim.kubeedge.fleetgen import FleetOptions, node_list_json

START = datetime(2026, 3, 1, tzinfo=UTC)
SITES = ("berlin", "munich")
BASE = """\
apiVersion: edgefleet.io/v1alpha1
kind: NodeGroupImages
metadata: {name: berlin-shops}
spec:
  nodes: {nodeGroup: berlin}
  images: [docker.io/library/nginx:1.27, docker.io/library/redis:7.2]
---
apiVersion: edgefleet.io/v1alpha1
kind: NodeGroupImages
metadata: {name: munich-shops}
spec:
  nodes: {nodeGroup: munich}
  images: [docker.io/library/alpine:3.20]
"""
HEAD = BASE.replace("docker.io/library/alpine:3.20]",
                    "docker.io/library/alpine:3.20, registry.example.com/retail/pos-sync:6.0.0]")


def _fleet(text: str) -> Fleet:
    loaded = load_fleet({"fleet.yaml": text.encode()})
    assert loaded.fleet is not None, loaded.errors
    return loaded.fleet


@pytest.fixture(scope="module")
def nodes() -> list[NodeFacts]:
    options = FleetOptions(nodes=150, seed=5, sites=SITES, node_group_sites=SITES, named_nodes=())
    return decode_nodes(node_list_json(options, start=START), normalize=normalize_image)


@pytest.fixture(scope="module")
def head_plan(nodes: list[NodeFacts]) -> Plan:
    return plan(_fleet(HEAD), nodes, [], [], now=START + timedelta(minutes=5), revision="f" * 40,
                job_api_version="operations.kubeedge.io/v1alpha2")


def _group_row(markdown: str, name: str) -> list[str]:
    line = next(x for x in markdown.splitlines() if x.startswith(f"| `{name}` |"))
    return [cell.strip() for cell in line.split("|")[2:-1]]


def test_every_planned_job_and_group_count_is_shown(head_plan: Plan) -> None:
    data: dict[str, Any] = head_plan.to_dict()
    text = render_plan(data, "markdown")
    assert data["create"], "the generated fleet should miss something"
    for job in data["create"]:
        assert f"| `{job['metadata']['name']}` |" in text
    for group in data["groups"]:
        assert _group_row(text, group["name"]) == [
            f"{group[k]:,}" for k in ("nodes", "pairsDesired", "pairsPresent", "pairsMissing",
                                      "pairsInFlight", "nodesDeferred", "jobsCreate", "jobsDelete")]
    for deferral in data["deferred"]:
        assert f"| `{deferral['node']}` |" in text


def test_base_changes_show_added_images_and_pairs_becoming_missing(
        head_plan: Plan, nodes: list[NodeFacts]) -> None:
    changes = diff_fleets(_fleet(BASE), _fleet(HEAD), nodes)
    text = render_plan(replace(head_plan, changes=changes).to_dict(), "markdown")
    section = text.split("#### Changes from", 1)[1].split("\n#### ", 1)[0]
    munich = next(c for c in changes.groups if c.group == "munich-shops")
    row = next(x for x in section.splitlines() if x.startswith("| `munich-shops` |"))
    cells = [c.strip() for c in row.split("|")[2:-1]]
    assert cells == ["1", "0", "0", "0", f"{munich.pairs_becoming_missing:,}"]
    assert munich.pairs_becoming_missing > 0
    assert re.search(r"- `munich-shops`: images added `registry.example.com/retail/pos-sync:6.0.0`",
                     section)
    assert "berlin-shops" not in section  # unchanged groups are not listed
