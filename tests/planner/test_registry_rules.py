"""The registry rules (#12): with registry facts, a missing image is held everywhere, an image
without a node's platform is held on that node, pinned groups pull `name:tag@digest`, bytes to
move are counted per group, and a registry that cannot tell never holds (unless pinned) and
never deletes a job."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from reconciler.manifests.fleet import Fleet
from reconciler.observed.registry import ImageFacts, PlatformFacts
from reconciler.planner import Plan, plan
from tests.fleet_builders import NOW, fleet, group, job_object, jobs_facts, node_object, nodes_facts

API = "operations.kubeedge.io/v1alpha2"
MULTI = "reg.example.com/vision/detector:2.3"  # amd64 + arm64
AMD = "reg.example.com/vision/legacy:1.0"  # amd64 only
TYPO = "reg.example.com/vision/detectr:2.3"  # not in the registry
DOWN = "other.example.com/app:1"  # its registry does not answer
D1 = "sha256:" + "1" * 64
D2 = "sha256:" + "2" * 64
DA = "sha256:" + "a" * 64


def platform(arch: str, size: int) -> PlatformFacts:
    return PlatformFacts(os="linux", architecture=arch, digest=DA, size_bytes=size)


FACTS = {
    MULTI: ImageFacts(reference=MULTI, exists=True, digest=D1,
                      platforms=(platform("amd64", 1000), platform("arm64", 900))),
    AMD: ImageFacts(reference=AMD, exists=True, digest=D2, platforms=(platform("amd64", 500),)),
    TYPO: ImageFacts(reference=TYPO, exists=False,
                     error="tag '2.3' not found in reg.example.com/vision/detectr"),
    DOWN: ImageFacts(reference=DOWN, exists=None, error="connection refused"),
}
NODES = nodes_facts(
    node_object("cam-amd", labels={"kubernetes.io/arch": "amd64", "kubernetes.io/os": "linux"}),
    node_object("cam-arm", labels={"kubernetes.io/arch": "arm64", "kubernetes.io/os": "linux"}),
    node_object("cam-any"),  # no arch label: nothing is judged by platform
)
ALL = ["cam-amd", "cam-arm", "cam-any"]


def planned(the_fleet: Fleet, registry: dict[str, ImageFacts] | None, jobs: list[Any] | None = None,
            nodes: Any = NODES) -> Plan:
    return plan(the_fleet, nodes, jobs_facts(*(jobs or [])), [], now=NOW, revision="r1",
                job_api_version=API, registry=registry)


def running(name: str, images: list[str], nodes: list[str]) -> dict[str, Any]:
    """A managed job of group `cams` created a minute before NOW, still running."""
    return job_object(name, images, nodes, group_name="cams", created="2025-07-01T11:59:00Z",
                      status={"phase": "Running"})


def sent(the_plan: Plan) -> dict[str, set[str]]:
    """node -> images some created job pulls onto it."""
    result: dict[str, set[str]] = {}
    for job in the_plan.create:
        for node in job.node_names:
            result.setdefault(node, set()).update(job.images)
    return result


def held(the_plan: Plan) -> set[tuple[str, str, int]]:
    assert the_plan.registry is not None
    return {(h.image, h.reason, h.nodes) for h in the_plan.registry.holds}


@pytest.mark.parametrize(("image", "expected_sent", "expected_held"), [
    pytest.param(MULTI, {"cam-amd", "cam-arm", "cam-any"}, set(), id="multi-arch-everywhere"),
    pytest.param(AMD, {"cam-amd", "cam-any"}, {(AMD, "no-platform", 1)}, id="amd64-only-not-on-arm"),
    pytest.param(TYPO, set(), {(TYPO, "not-in-registry", 3)}, id="typo-nowhere"),
    pytest.param(DOWN, {"cam-amd", "cam-arm", "cam-any"}, set(), id="unknown-as-today"),
])
def test_which_nodes_get_an_image(image: str, expected_sent: set[str],
                                  expected_held: set[tuple[str, str, int]]) -> None:
    the_plan = planned(fleet(group("cams", [image], names=ALL)), FACTS)
    assert {n for n, images in sent(the_plan).items() if image in images} == expected_sent
    assert held(the_plan) == expected_held


def test_a_held_image_is_not_carried_onto_a_node_by_a_shared_job() -> None:
    # cam-arm misses both images; the amd64-only one must not reach it through a job it shares
    # with cam-amd, which misses both too.
    the_plan = planned(fleet(group("cams", [MULTI, AMD], names=["cam-amd", "cam-arm"])), FACTS)
    assert sent(the_plan) == {"cam-amd": {MULTI, AMD}, "cam-arm": {MULTI}}


def test_without_registry_facts_nothing_changes() -> None:
    the_fleet = fleet(group("cams", [MULTI, AMD, TYPO], names=ALL))
    without = planned(the_fleet, None)
    assert without.registry is None and "registry" not in without.to_dict()
    assert sent(without) == {n: {MULTI, AMD, TYPO} for n in ALL}


def test_the_plan_says_what_was_held_and_what_could_not_be_checked() -> None:
    the_plan = planned(fleet(group("cams", [MULTI, AMD, TYPO, DOWN], names=ALL)), FACTS)
    section = the_plan.to_dict()["registry"]
    assert {(h["image"], h["reason"]) for h in section["held"]} == {
        (TYPO, "not-in-registry"), (AMD, "no-platform")}
    typo = next(h for h in section["held"] if h["image"] == TYPO)
    assert "tag '2.3' not found" in typo["detail"]
    assert section["notChecked"] == [DOWN]
    assert any(w.startswith(f"registry facts unknown for {DOWN}: connection refused; planned without")
               for w in the_plan.warnings)


def test_bytes_to_transfer_per_group_use_each_nodes_platform() -> None:
    the_plan = planned(fleet(group("cams", [MULTI, AMD], names=["cam-amd", "cam-arm"]),
                             group("lab", [MULTI], names=["cam-any"])), FACTS)
    section = the_plan.to_dict()["registry"]
    # cams: amd64 1000 + 500, arm64 900 (the amd64-only image is held there); lab: no arch
    # label, counted as the largest platform (an upper bound).
    assert section["bytesToTransfer"] == [{"group": "cams", "bytes": 2400}, {"group": "lab", "bytes": 1000}]
    assert section["unsizedPairs"] == 0


def pinned(*groups: Any) -> Fleet:
    return fleet(*(replace(g, pin_digests=True) for g in groups))


def test_a_pinned_group_pulls_the_digest_the_tag_means_now() -> None:
    the_plan = planned(pinned(group("cams", [MULTI], names=["cam-arm"])), FACTS)
    assert [job.images for job in the_plan.create] == [(f"{MULTI}@{D1}",)]
    assert the_plan.to_dict()["registry"]["pinned"] == [{"image": MULTI, "pinned": f"{MULTI}@{D1}"}]


def test_presence_of_a_pinned_image_compares_by_digest() -> None:
    repo = MULTI.rsplit(":", 1)[0]
    current = nodes_facts(node_object("cam-arm", images=[[f"{repo}@{D1}", MULTI]]))
    stale = nodes_facts(node_object("cam-arm", images=[[f"{repo}@{D2}", MULTI]]))
    the_fleet = pinned(group("cams", [MULTI], names=["cam-arm"]))
    assert planned(the_fleet, FACTS, nodes=current).create == ()
    assert [j.images for j in planned(the_fleet, FACTS, nodes=stale).create] == [(f"{MULTI}@{D1}",)]


def test_a_tag_that_moves_mid_rollout_keeps_the_digest_of_the_running_job() -> None:
    job = running("ef-cams-old", [f"{MULTI}@{D2}"], ["cam-amd"])
    the_plan = planned(pinned(group("cams", [MULTI], names=["cam-amd", "cam-arm"])), FACTS, [job])
    assert the_plan.delete == ()  # the running job is still desired
    assert sent(the_plan) == {"cam-arm": {f"{MULTI}@{D2}"}}  # not D1, what the tag means now


def test_an_unreachable_registry_holds_a_pinned_image_and_deletes_no_job() -> None:
    job = running("ef-cams-old", [DOWN], ["cam-amd"])
    the_plan = planned(pinned(group("cams", [DOWN], names=["cam-amd", "cam-arm"])), FACTS, [job])
    assert the_plan.create == () and the_plan.delete == ()
    assert held(the_plan) == {(DOWN, "registry-unreachable", 1)}
    assert any("held: pinDigests needs its digest" in w for w in the_plan.warnings)


def test_an_unreachable_registry_keeps_a_pinned_image_on_the_digest_in_flight() -> None:
    job = running("ef-cams-old", [f"{DOWN}@{D2}"], ["cam-amd"])
    the_plan = planned(pinned(group("cams", [DOWN], names=["cam-amd", "cam-arm"])), FACTS, [job])
    assert the_plan.delete == ()
    assert sent(the_plan) == {"cam-arm": {f"{DOWN}@{D2}"}}


def test_a_missing_image_never_deletes_its_running_job() -> None:
    job = running("ef-cams-old", [TYPO], ["cam-amd"])
    the_plan = planned(fleet(group("cams", [TYPO], names=["cam-amd", "cam-arm"])), FACTS, [job])
    assert the_plan.delete == () and the_plan.create == ()
