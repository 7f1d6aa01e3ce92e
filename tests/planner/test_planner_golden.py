"""Planner golden cases (input/expected file pairs under tests/fixtures/planner/), and
determinism: the same input, in any order, gives byte-identical plan JSON.

Regenerate an expected file after an intended change with EDGEFLEET_UPDATE_GOLDEN=1, then
review the diff like code.
"""

from __future__ import annotations

import os
import random
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from reconciler.manifests.fleet import JobPolicy, LabelRequirement
from reconciler.observed import inventory_from_object
from reconciler.planner import Plan, PlannerSettings, plan
from tests.fleet_builders import REPO_ROOT, fleet, group, jobs_facts, node_object, nodes_facts

GOLDEN = REPO_ROOT / "tests" / "fixtures" / "planner"
CASES = sorted(p.name.removesuffix(".input.json") for p in GOLDEN.glob("*.input.json"))


def plan_from_input(data: dict[str, Any], shuffle: random.Random | None = None) -> Plan:
    groups = []
    for g in data["groups"]:
        expressions = [LabelRequirement(e["key"], e["operator"], tuple(e.get("values", ())))
                       for e in g.get("matchExpressions", ())]
        images = [(i["image"], i.get("secret")) if isinstance(i, dict) else i for i in g["images"]]
        groups.append(group(g["name"], images, node_group=g.get("nodeGroup"), names=g.get("names", ()),
                            match_labels=g.get("matchLabels"), expressions=expressions,
                            policy=JobPolicy(**g.get("policy", {})), secret=g.get("secret"),
                            suspend=g.get("suspend", False)))
    nodes = [node_object(n["name"], labels=n.get("labels"), ready=n.get("ready", True),
                         images=[[i] for i in n.get("images", ())], edge=n.get("edge", True))
             for n in data["nodes"]]
    jobs, inventories = list(data.get("jobs", ())), list(data.get("inventories", ()))
    if shuffle is not None:
        for items in (groups, nodes, jobs, inventories):
            shuffle.shuffle(items)
    return plan(fleet(*groups), nodes_facts(*nodes), jobs_facts(*jobs),
                [inventory_from_object(i) for i in inventories],
                now=datetime.fromisoformat(data["now"]), revision=data.get("revision"),
                job_api_version=data["jobApiVersion"], settings=PlannerSettings(**data.get("settings", {})))


def render(result: Plan) -> bytes:
    body = result.to_dict()
    body["inventoryUpdates"] = [u.manifest() for u in result.inventory_updates]
    return orjson.dumps(body, option=orjson.OPT_INDENT_2) + b"\n"


@pytest.mark.parametrize("case", CASES)
def test_golden_plan(case: str) -> None:
    data = orjson.loads((GOLDEN / f"{case}.input.json").read_bytes())
    expected_path: Path = GOLDEN / f"{case}.expected.json"
    actual = render(plan_from_input(data))
    if os.environ.get("EDGEFLEET_UPDATE_GOLDEN"):
        expected_path.write_bytes(actual)
    assert actual.decode() == expected_path.read_text()


@pytest.mark.parametrize("case", CASES)
def test_same_input_in_any_order_gives_identical_bytes(case: str) -> None:
    data = orjson.loads((GOLDEN / f"{case}.input.json").read_bytes())
    first = render(plan_from_input(data))
    assert render(plan_from_input(data)) == first
    for seed in range(3):
        assert render(plan_from_input(data, random.Random(seed))) == first
