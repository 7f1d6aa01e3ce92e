"""Bytes to transfer per group and per site (#12): each (node, image) pair of the created jobs
weighs its node's platform, sites are the drift report's site label values."""

from __future__ import annotations

from dataclasses import replace

import pytest

from reconciler.manifests.fleet import JobPolicy
from reconciler.manifests.models import DriftReportSpec
from reconciler.observed.registry import ImageFacts, PlatformFacts
from reconciler.planner import plan
from reconciler.planner.model import PlannedJob
from reconciler.planner.registry_bytes import (
    DEFAULT_SITE_LABEL,
    UNLABELLED,
    image_size,
    site_label_of,
    transfer_bytes,
)
from tests.fleet_builders import NOW, fleet, group, node_object, nodes_facts

MULTI = "reg.example.com/vision/detector:2.3"
AMD = "reg.example.com/vision/legacy:1.0"
UNSIZED = "other.example.com/app:1"
SITE = "topology.edgefleet.io/site"
API = "operations.kubeedge.io/v1alpha2"


def platform(arch: str, size: int) -> PlatformFacts:
    return PlatformFacts(os="linux", architecture=arch, digest="sha256:" + "a" * 64, size_bytes=size)


FACTS = {
    MULTI: ImageFacts(reference=MULTI, exists=True,
                      platforms=(platform("amd64", 1000), platform("arm64", 900))),
    AMD: ImageFacts(reference=AMD, exists=True, platforms=(platform("amd64", 500),)),
    UNSIZED: ImageFacts(reference=UNSIZED, exists=None, error="connection refused"),
}


def node(name: str, arch: str | None, site: str | None) -> object:
    labels = {k: v for k, v in (("kubernetes.io/arch", arch), (SITE, site)) if v is not None}
    return node_object(name, labels=labels)


NODES = nodes_facts(node("a1", "amd64", "berlin"), node("a2", "amd64", "munich"),
                    node("r1", "arm64", "berlin"), node("x1", None, None))


def job(group_name: str, images: tuple[str, ...], nodes: tuple[str, ...]) -> PlannedJob:
    return PlannedJob(name=f"ef-{group_name}", group=group_name, api_version=API, images=images,
                      node_names=nodes, secret=None, policy=JobPolicy(), revision=None, attempt=0)


@pytest.mark.parametrize(("jobs", "groups", "sites", "unsized"), [
    pytest.param([job("cams", (MULTI,), ("a1", "r1"))], [("cams", 1900)], [("berlin", 1900)], 0,
                 id="each-node-its-platform"),
    pytest.param([job("cams", (MULTI, AMD), ("a1", "a2"))], [("cams", 3000)],
                 [("berlin", 1500), ("munich", 1500)], 0, id="two-sites"),
    pytest.param([job("cams", (MULTI,), ("a1",)), job("lab", (AMD,), ("a2",))],
                 [("cams", 1000), ("lab", 500)], [("berlin", 1000), ("munich", 500)], 0, id="two-groups"),
    pytest.param([job("cams", (MULTI,), ("x1",))], [("cams", 1000)], [(UNLABELLED, 1000)], 0,
                 id="no-arch-no-site-upper-bound-unlabelled"),
    pytest.param([job("cams", (MULTI, UNSIZED), ("a1", "r1"))], [("cams", 1900)], [("berlin", 1900)], 2,
                 id="unsized-pairs-counted-apart"),
    pytest.param([job("cams", (AMD,), ("ghost",))], [("cams", 500)], [(UNLABELLED, 500)], 0,
                 id="unknown-node-unlabelled-largest"),
    pytest.param([], [], [], 0, id="nothing-created"),
])
def test_bytes_per_group_and_site(jobs: list[PlannedJob], groups: list[tuple[str, int]],
                                  sites: list[tuple[str, int]], unsized: int) -> None:
    moved = transfer_bytes(jobs, NODES, FACTS.get, site_label=SITE)
    assert (list(moved.by_group), list(moved.by_site), moved.unsized_pairs) == (groups, sites, unsized)


@pytest.mark.parametrize(("arch", "expected"), [
    ("amd64", 1000), ("arm64", 900), (None, 1000), ("riscv64", None)])
def test_image_size_is_the_nodes_platform(arch: str | None, expected: int | None) -> None:
    assert image_size(FACTS[MULTI], "linux", arch) == expected


def test_the_site_label_is_the_drift_reports() -> None:
    plain = fleet(group("cams", [MULTI], names=["a1"]))
    assert site_label_of(plain) == DEFAULT_SITE_LABEL
    spec = DriftReportSpec.model_validate({"schedule": "0 6 * * *", "siteLabel": SITE})
    assert site_label_of(replace(plain, drift_report=spec)) == SITE


def test_the_plan_shows_bytes_per_site_by_the_drift_site_label() -> None:
    spec = DriftReportSpec.model_validate({"schedule": "0 6 * * *", "siteLabel": SITE})
    the_fleet = replace(fleet(group("cams", [MULTI, AMD], names=["a1", "a2", "r1"])), drift_report=spec)
    the_plan = plan(the_fleet, NODES, [], [], now=NOW, revision="r1",
                    job_api_version=API, registry=FACTS)
    section = the_plan.to_dict()["registry"]
    # a1, a2: 1000 + 500 each; r1: 900 (the amd64-only image is held on arm64)
    assert section["bytesToTransfer"] == [{"group": "cams", "bytes": 3900}]
    assert section["siteLabel"] == SITE
    assert section["bytesToTransferPerSite"] == [{"site": "berlin", "bytes": 2400},
                                                 {"site": "munich", "bytes": 1500}]
