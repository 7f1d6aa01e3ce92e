"""The review comment (report/review_markdown.py): a golden rendering of plans the real planner
made for a change with adds, removes, a deferral and a warning; table tests of what a reviewer
must see; the size limit at fleet scale; the same input gives the same bytes."""

from __future__ import annotations

import copy
import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from reconciler.manifests import load_fleet
from reconciler.manifests.fleet import Fleet
from reconciler.manifests.imageref import normalize_image
from reconciler.observed import ClusterFacts, decode_nodes
from reconciler.planner import PlannerSettings, plan_revision
from reconciler.report.review_markdown import (
    MAX_REVIEW_CHARS,
    REVIEW_MARKER,
    ReviewInput,
    render_review,
    review_has_changes,
)
from reconciler.sim.kubeedge.fleetgen import FleetOptions, node_list_json
from tests.report.conftest import PlanDict, group, job, plan_dict

GOLDEN = Path(__file__).parent / "golden" / "review.md"
START = datetime(2026, 3, 1, tzinfo=UTC)
SITES = ("berlin", "munich")
BASE_SHA, HEAD_SHA = "b" * 40, "e" * 40
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
# Berlin drops redis, Munich adds pos-sync, and a new group selects a site with no node.
HEAD = BASE.replace(", docker.io/library/redis:7.2]", "]").replace(
    "docker.io/library/alpine:3.20]",
    "docker.io/library/alpine:3.20, registry.example.com/retail/pos-sync:6.0.0]"
) + """\
---
apiVersion: edgefleet.io/v1alpha1
kind: NodeGroupImages
metadata: {name: hamburg-shops}
spec:
  nodes: {nodeGroup: hamburg}
  images: [docker.io/library/nginx:1.27]
"""


def _fleet(text: str) -> Fleet:
    loaded = load_fleet({"fleet.yaml": text.encode()})
    assert loaded.fleet is not None, loaded.errors
    return loaded.fleet


def real_review() -> ReviewInput:
    options = FleetOptions(nodes=60, seed=5, sites=SITES, node_group_sites=SITES, named_nodes=(),
                           offline=0.1)
    nodes = decode_nodes(node_list_json(options, start=START), normalize=normalize_image)
    facts = ClusterFacts(nodes, [], [], "operations.kubeedge.io/v1alpha2", True)
    now, settings = START + timedelta(minutes=5), PlannerSettings()
    base = plan_revision(_fleet(BASE), facts, now=now, revision=BASE_SHA, settings=settings)
    head = plan_revision(_fleet(HEAD), facts, now=now, revision=HEAD_SHA, settings=settings,
                         base=_fleet(BASE), base_revision=BASE_SHA)
    return ReviewInput(BASE_SHA, HEAD_SHA, base.to_dict(), head.to_dict(), fleet_path="fleet",
                       notes=["cluster facts from the snapshot fleet-snapshot.json.gz"])


def test_golden_comment_of_a_change_with_adds_removes_a_deferral_and_a_warning() -> None:
    review = real_review()
    head = review.head_plan
    assert head is not None and head["deferred"], "the generated fleet should defer an offline node"
    rendered = render_review(review)
    if os.environ.get("EDGEFLEET_UPDATE_GOLDEN"):
        GOLDEN.write_text(rendered + "\n")
    assert rendered + "\n" == GOLDEN.read_text()
    assert render_review(real_review()) == rendered  # stable: same input, same bytes


def test_the_comment_leads_with_the_verdict_commits_and_warnings() -> None:
    rendered = render_review(real_review())
    lines = rendered.splitlines()
    assert lines[0] == REVIEW_MARKER
    assert lines[2] == "### edgefleet review: this change alters the rollout"
    assert f"Base `{BASE_SHA}` → head `{HEAD_SHA}`" in rendered
    first = rendered.index("#### Look at these first")
    assert first < rendered.index("#### Rollout per group") < rendered.index("<details>")
    assert "- :warning: group `hamburg-shops` now selects no node" in rendered
    assert "- `munich-shops`: adds `registry.example.com/retail/pos-sync:6.0.0`" in rendered
    assert "- `berlin-shops`: removes `docker.io/library/redis:7.2`" in rendered
    assert review_has_changes(real_review())


def _pair(base: PlanDict, head: PlanDict, **kwargs: Any) -> ReviewInput:
    return ReviewInput(BASE_SHA, HEAD_SHA, base, head, **kwargs)


def _small(warnings: list[str] | None = None, *, nodes: int = 4, jobs: int = 1) -> PlanDict:
    create = [job(f"ef-berlin-{i:010x}", "berlin", ["edge-b-01"], ["docker.io/library/nginx:1.27"])
              for i in range(jobs)]
    return plan_dict(groups=[group("berlin", nodes=nodes, desired=nodes, present=0, jobs_create=jobs)],
                     create=create, delete=[], deferred=[], warnings=warnings)


@pytest.mark.parametrize(("base", "head", "kwargs", "title", "present", "absent"), [
    pytest.param(_small(), _small(), {}, "no change to the rollout",
                 ["No group's images, nodes or jobs change."], ["Look at these first"],
                 id="nothing-changes"),
    pytest.param(_small(["old warning"]), _small(["old warning", "new warning"]), {},
                 "no change to the rollout", ["- :warning: new warning"], [":warning: old warning"],
                 id="only-new-warnings"),
    pytest.param(_small(), None, {"errors": ["fleet.yaml:6:3: unknown field imagez"]},
                 "the head revision cannot be planned",
                 ["- :x: **error:** fleet.yaml:6:3: unknown field imagez"], ["<details>"], id="head-error"),
    pytest.param(_small(), _small(nodes=0, jobs=0), {}, "this change alters the rollout",
                 ["group `berlin` now selects no node", "| `berlin` | +0 / −0 | 4 → 0 | 1 → 0 |"], [],
                 id="group-loses-its-nodes"),
    pytest.param(_small(jobs=1), _small(jobs=3), {}, "this change alters the rollout",
                 ["| 1 → 3 |", "its jobs reach 1 node"], [], id="more-jobs"),
    pytest.param(None, _small(), {}, "this change alters the rollout",
                 ["the base revision could not be planned"], [], id="base-does-not-plan"),
])
def test_what_a_reviewer_sees(base: PlanDict | None, head: PlanDict | None, kwargs: dict[str, Any],
                              title: str, present: list[str], absent: list[str]) -> None:
    rendered = render_review(_pair(base, head, **kwargs))  # type: ignore[arg-type]
    assert rendered.splitlines()[2] == f"### edgefleet review: {title}"
    for text in present:
        assert text in rendered
    for text in absent:
        assert text not in rendered


def test_a_fleet_scale_change_stays_under_the_comment_limit(
        fleet_plan: Callable[..., PlanDict]) -> None:
    base = fleet_plan(nodes=100_000, groups=2_000)
    head = copy.deepcopy(base)
    head["changes"] = {"base": BASE_SHA, "groups": [
        {"name": g["name"], "status": "changed",
         "imagesAdded": [f"registry.example.com/new/{i}:1" for i in range(30)],
         "imagesRemoved": [], "nodesAdded": [], "nodesRemoved": [], "pairsBecomingMissing": g["nodes"] * 30}
        for g in head["groups"]]}
    rendered = render_review(_pair(base, head))
    assert len(rendered) <= MAX_REVIEW_CHARS
    assert "more groups change (in the totals above)" in rendered
    assert "+60,000 images in 2,000 groups" in rendered  # the headline counts everything
    assert render_review(_pair(base, copy.deepcopy(head))) == rendered
    tiny = render_review(_pair(base, head), limit=3_000)
    assert len(tiny) <= 3_000 and tiny.startswith(REVIEW_MARKER)
