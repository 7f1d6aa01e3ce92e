"""Registry holds in drift reports (#12): each (node, image) pair the registry check holds back
is `not-in-registry` or `no-platform` on that node (other nodes keep their own reasons), and the
report shows the bytes the next jobs move per group and site."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from reconciler.drift.reasons import Reason
from reconciler.drift.render_html import render_report_html
from reconciler.drift.render_markdown import render_report_markdown
from reconciler.drift.report import DriftSettings
from reconciler.drift.survey import survey
from reconciler.kubeedge import V1ALPHA2
from reconciler.observed import InventoryFacts, inventory_from_object
from reconciler.observed.cluster import ClusterFacts
from reconciler.observed.registry import ImageFacts, PlatformFacts
from tests.fleet_builders import (
    BELONGING,
    NOW,
    fleet,
    group,
    job_object,
    jobs_facts,
    node_object,
    nodes_facts,
)

MULTI = "reg.example.com/vision/detector:2.3"  # amd64 + arm64
AMD = "reg.example.com/vision/legacy:1.0"  # amd64 only
TYPO = "reg.example.com/vision/detectr:2.3"  # not in the registry
DOWN = "other.example.com/app:1"  # its registry does not answer
SITE = "topology.kubernetes.io/zone"


def platform(arch: str, size: int) -> PlatformFacts:
    return PlatformFacts(os="linux", architecture=arch, digest="sha256:" + "a" * 64, size_bytes=size)


FACTS = {
    MULTI: ImageFacts(reference=MULTI, exists=True,
                      platforms=(platform("amd64", 1000), platform("arm64", 900))),
    AMD: ImageFacts(reference=AMD, exists=True, platforms=(platform("amd64", 500),)),
    TYPO: ImageFacts(reference=TYPO, exists=False,
                     error="tag '2.3' not found in reg.example.com/vision/detectr"),
    DOWN: ImageFacts(reference=DOWN, exists=None, error="connection refused"),
}
LINE = fleet(group("line", [MULTI, AMD, TYPO, DOWN], node_group="line"))


def node(name: str, arch: str, site: str, ready: bool = True) -> dict[str, Any]:
    return node_object(name, labels={BELONGING: "line", "kubernetes.io/arch": arch, SITE: site}, ready=ready)


def failed(name: str, image: str, attempts: int) -> InventoryFacts:
    """A failure record whose retry is due (retryAfter before NOW)."""
    return inventory_from_object({
        "metadata": {"name": name, "resourceVersion": "1"},
        "status": {"failures": [{"image": image, "attempts": attempts, "lastError": "pull: not found",
                                 "lastJob": "ef-line-old", "lastAttempt": "2025-07-01T10:00:00Z",
                                 "retryAfter": "2025-07-01T11:00:00Z"}]},
    })


def cluster(*nodes: dict[str, Any], jobs: Any = (), inventories: Any = (),
            registry: dict[str, ImageFacts] | None = FACTS) -> ClusterFacts:
    return ClusterFacts(nodes=nodes_facts(*nodes), jobs=jobs_facts(*jobs), inventories=list(inventories),
                        job_api_version=V1ALPHA2, inventory_served=True, registry=registry)


def reasons(facts: ClusterFacts) -> dict[tuple[str, str], Reason]:
    made = survey(LINE, facts, now=NOW, revision="c0ffee")
    return {(p.node, p.image): p.reason for p in made.facts.pairs}


@pytest.mark.parametrize(("facts", "expected"), [
    pytest.param(cluster(node("amd-1", "amd64", "berlin"), node("arm-1", "arm64", "munich")), {
        ("amd-1", MULTI): Reason.NOT_YET_PLANNED, ("amd-1", AMD): Reason.NOT_YET_PLANNED,
        ("amd-1", TYPO): Reason.NOT_IN_REGISTRY, ("amd-1", DOWN): Reason.NOT_YET_PLANNED,
        ("arm-1", MULTI): Reason.NOT_YET_PLANNED, ("arm-1", AMD): Reason.NO_PLATFORM,
        ("arm-1", TYPO): Reason.NOT_IN_REGISTRY, ("arm-1", DOWN): Reason.NOT_YET_PLANNED,
    }, id="per-node-and-image"),
    pytest.param(cluster(node("amd-1", "amd64", "berlin"), registry=None), {
        ("amd-1", MULTI): Reason.NOT_YET_PLANNED, ("amd-1", AMD): Reason.NOT_YET_PLANNED,
        ("amd-1", TYPO): Reason.NOT_YET_PLANNED, ("amd-1", DOWN): Reason.NOT_YET_PLANNED,
    }, id="without-registry-facts-as-today"),
    pytest.param(cluster(node("amd-1", "amd64", "berlin"), inventories=[failed("amd-1", TYPO, 2)]), {
        ("amd-1", MULTI): Reason.NOT_YET_PLANNED, ("amd-1", AMD): Reason.NOT_YET_PLANNED,
        ("amd-1", TYPO): Reason.NOT_IN_REGISTRY, ("amd-1", DOWN): Reason.NOT_YET_PLANNED,
    }, id="a-retry-due-is-held-not-in-flight"),
    pytest.param(cluster(node("amd-1", "amd64", "berlin"), inventories=[failed("amd-1", TYPO, 5)]), {
        ("amd-1", MULTI): Reason.NOT_YET_PLANNED, ("amd-1", AMD): Reason.NOT_YET_PLANNED,
        ("amd-1", TYPO): Reason.FAILED, ("amd-1", DOWN): Reason.NOT_YET_PLANNED,
    }, id="attempts-exhausted-stays-failed-the-plan-holds-nothing"),
    pytest.param(cluster(node("arm-1", "arm64", "munich", ready=False)), {
        ("arm-1", MULTI): Reason.DEFERRED_OFFLINE, ("arm-1", AMD): Reason.DEFERRED_OFFLINE,
        ("arm-1", TYPO): Reason.DEFERRED_OFFLINE, ("arm-1", DOWN): Reason.DEFERRED_OFFLINE,
    }, id="an-offline-node-is-deferred-first"),
])
def test_each_held_pair_gets_the_registry_reason(facts: ClusterFacts,
                                                 expected: dict[tuple[str, str], Reason]) -> None:
    assert reasons(facts) == expected


def test_a_pair_a_running_job_covers_keeps_its_reason_beside_held_ones() -> None:
    running = job_object("ef-line-running", [MULTI], ["arm-1"], group_name="line",
                         created=(NOW - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                         status={"phase": "Running"})
    got = reasons(cluster(node("arm-1", "arm64", "munich"), jobs=[running]))
    without = reasons(cluster(node("arm-1", "arm64", "munich"), jobs=[running], registry=None))
    assert got[("arm-1", MULTI)] == without[("arm-1", MULTI)] != Reason.NOT_YET_PLANNED
    assert got[("arm-1", AMD)] == Reason.NO_PLATFORM and got[("arm-1", TYPO)] == Reason.NOT_IN_REGISTRY


def test_the_report_counts_registry_reasons_and_shows_bytes_per_group_and_site() -> None:
    made = survey(LINE, cluster(node("amd-1", "amd64", "berlin"), node("amd-2", "amd64", "munich"),
                                node("arm-1", "arm64", "munich")), now=NOW, revision="c0ffee",
                  settings=DriftSettings(site_label=SITE, min_age_seconds=0))
    report = made.report
    by_reason = {a.key: a.pairs for a in report.aggregates.reasons}
    assert by_reason[Reason.NOT_IN_REGISTRY] == 3 and by_reason[Reason.NO_PLATFORM] == 1
    assert report.transfer is not None
    # amd64 nodes: 1000 + 500 each; arm64: 900; DOWN has no size (3 unsized pairs)
    assert [(b.key, b.bytes) for b in report.transfer.groups] == [("line", 3900)]
    assert [(b.key, b.bytes) for b in report.transfer.sites] == [("berlin", 1500), ("munich", 2400)]
    assert report.transfer.unsized_pairs == 3
    markdown = render_report_markdown(report)
    assert "- Per group: `line` 3.8 KiB (3,900 B) (3 pairs of unknown size)." in markdown
    assert f"- Per site (label `{SITE}`): `berlin` 1.5 KiB (1,500 B), `munich` 2.3 KiB (2,400 B)." in markdown
    page = render_report_html(report)
    assert "<h2>Bytes to transfer (registry sizes)</h2>" in page
    assert f"<td>site ({SITE})</td><td>munich</td><td class=\"n\">2.3 KiB (2,400 B)</td>" in page


def test_without_registry_facts_the_report_has_no_transfer() -> None:
    made = survey(LINE, cluster(node("amd-1", "amd64", "berlin"), registry=None), now=NOW, revision="c0ffee")
    assert made.report.transfer is None
    assert "Bytes to transfer" not in render_report_markdown(made.report)
    assert "Bytes to transfer" not in render_report_html(made.report)
