"""The agent disk rule weighs registry sizes (#12): with an agent's disk facts, a node is not
sent more than it can hold, also for images no agent report sizes yet; the registry's size is
the one of the node's platform, and an agent's own figure wins."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from reconciler.inventory import format_time
from reconciler.kubeedge import V1ALPHA2
from reconciler.observed import InventoryFacts, inventory_from_object
from reconciler.observed.registry import ImageFacts, PlatformFacts
from reconciler.planner import Plan, plan
from reconciler.planner.agent_trust import AgentTrust
from tests.fleet_builders import NOW, fleet, group, node_object, nodes_facts

GIB = 1024**3
APP = "reg.example.com/vision/detector:2.3"  # 3 GiB on amd64, 1 GiB on arm64
SMALL = "reg.example.com/edge/agent:1.0"  # 100 MiB everywhere


def platform(arch: str, size: int) -> PlatformFacts:
    return PlatformFacts(os="linux", architecture=arch, digest="sha256:" + "a" * 64, size_bytes=size)


FACTS = {
    APP: ImageFacts(reference=APP, exists=True, digest="sha256:" + "1" * 64,
                    platforms=(platform("amd64", 3 * GIB), platform("arm64", 1 * GIB))),
    SMALL: ImageFacts(reference=SMALL, exists=True, platforms=(platform("amd64", 100 * 1024**2),
                                                              platform("arm64", 100 * 1024**2))),
}


def node(name: str, arch: str | None) -> dict[str, Any]:
    return node_object(name, labels={"kubernetes.io/arch": arch} if arch else {})


def disk(name: str, free_gib: float, sizes: dict[str, int] | None = None) -> InventoryFacts:
    """A fresh agent report of `name`: 100 GiB image filesystem, `free_gib` free below 85 %."""
    used = int(85 * GIB - free_gib * GIB)
    agent = {"images": [{"image": i, "sizeBytes": s} for i, s in sorted((sizes or {}).items())],
             "complete": True, "observedAt": format_time(NOW), "contentHash": "sha256:x",
             "imageFsUsedBytes": used, "imageFsCapacityBytes": 100 * GIB}
    return inventory_from_object({"metadata": {"name": name, "resourceVersion": "1"},
                                  "status": {"images": [], "agent": agent}})


def run(nodes: list[dict[str, Any]], inventories: list[InventoryFacts],
        registry: dict[str, ImageFacts] | None = FACTS, pin: bool = False) -> Plan:
    the_group = group("cams", [APP, SMALL], names=[n["metadata"]["name"] for n in nodes])
    if pin:
        the_group = replace(the_group, pin_digests=True)
    return plan(fleet(the_group), nodes_facts(*nodes), [], inventories, now=NOW, revision="r1",
                job_api_version=V1ALPHA2, registry=registry, agents=AgentTrust())


def deferred(result: Plan) -> dict[str, str]:
    return {d.node: d.reason for d in result.deferred}


@pytest.mark.parametrize(("arch", "free_gib", "registry", "expected"), [
    pytest.param("amd64", 2.0, FACTS, "disk: 2 image(s) need 3.1 GiB but only 2.0 GiB is free",
                 id="amd64-too-full"),
    pytest.param("arm64", 2.0, FACTS, None, id="arm64-its-platform-fits"),
    pytest.param("arm64", 0.5, FACTS, "disk: 2 image(s) need 1.1 GiB but only 512.0 MiB is free",
                 id="arm64-too-full"),
    pytest.param("amd64", 5.0, FACTS, None, id="room-enough"),
    pytest.param("amd64", 2.0, None, None, id="without-registry-facts-as-before"),
    pytest.param(None, 0.5, FACTS, None, id="no-arch-label-not-judged"),
])
def test_a_node_is_not_sent_more_than_it_can_hold(arch: str | None, free_gib: float,
                                                  registry: dict[str, ImageFacts] | None,
                                                  expected: str | None) -> None:
    result = run([node("edge-a", arch)], [disk("edge-a", free_gib)], registry)
    reason = deferred(result).get("edge-a")
    assert (reason.split(" below")[0] if reason else None) == expected
    assert ({n for j in result.create for n in j.node_names} == set()) == (expected is not None)


def test_an_agent_reported_size_wins_over_the_registry() -> None:
    # Another node's fresh report says the app takes 500 MiB here: 0.6 GiB fits in 1 GiB.
    result = run([node("edge-a", "amd64"), node("edge-b", "amd64")],
                 [disk("edge-a", 1.0), disk("edge-b", 50.0, {APP: 500 * 1024**2})])
    assert "edge-a" not in deferred(result)


def test_a_pinned_digest_no_node_reported_is_weighed_by_the_registry() -> None:
    result = run([node("edge-a", "amd64")], [disk("edge-a", 2.0, {APP: 1})], pin=True)
    assert deferred(result)["edge-a"].startswith("disk: 2 image(s) need 3.1 GiB")
