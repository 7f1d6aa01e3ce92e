"""Plan objects (the docs/design.md §5 JSON shape) built by hand, small and fleet-sized."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

PlanDict = dict[str, Any]

COUNT_KEYS = ("nodes", "pairsDesired", "pairsPresent", "pairsUnknown", "pairsMissing", "pairsInFlight",
              "pairsBackingOff", "pairsFailed", "nodesDeferred", "jobsCreate", "jobsDelete")


def job(name: str, group: str, nodes: list[str], images: list[str]) -> dict[str, Any]:
    """An ImagePrePullJob as the planner emits it."""
    return {
        "apiVersion": "operations.kubeedge.io/v1alpha2",
        "kind": "ImagePrePullJob",
        "metadata": {"name": name, "labels": {"app.kubernetes.io/managed-by": "edgefleet",
                                              "edgefleet.io/group": group}},
        "spec": {"imagePrePullTemplate": {
            "images": images, "nodeNames": nodes, "checkItems": [], "failureTolerate": "1",
            "concurrency": 10, "timeoutSeconds": 300, "retryTimes": 1}},
    }


def plan_dict(*, groups: list[dict[str, Any]], create: list[dict[str, Any]],
              delete: list[dict[str, str]], deferred: list[dict[str, str]],
              warnings: list[str] | None = None, revision: str | None = "0123456789abcdef" * 2 + "01234567",
              ) -> PlanDict:
    """A Plan object; the summary is the sum of the group counts plus the group count."""
    summary: dict[str, Any] = {key: sum(g[key] for g in groups) for key in COUNT_KEYS}
    summary["groups"] = len(groups)
    return {
        "apiVersion": "edgefleet.io/v1alpha1", "kind": "Plan", "revision": revision,
        "jobApiVersion": "operations.kubeedge.io/v1alpha2", "summary": summary,
        "create": create, "delete": delete, "deferred": deferred, "groups": groups,
        "warnings": warnings or [],
    }


def group(name: str, *, nodes: int, desired: int, present: int, jobs_create: int,
          jobs_delete: int = 0, deferred: int = 0, in_flight: int = 0) -> dict[str, Any]:
    """One group's counts (missing = desired - present - in flight)."""
    return {"name": name, "suspended": False, "nodes": nodes, "pairsDesired": desired,
            "pairsPresent": present, "pairsUnknown": 0, "pairsMissing": desired - present - in_flight,
            "pairsInFlight": in_flight, "pairsBackingOff": 0, "pairsFailed": 0,
            "nodesDeferred": deferred, "jobsCreate": jobs_create, "jobsDelete": jobs_delete}


@pytest.fixture
def small_plan() -> PlanDict:
    """Two groups, three jobs, two deletions, two deferred nodes, one warning."""
    create = [
        job("ef-berlin-1a2b3c4d5e", "berlin", ["edge-b-01", "edge-b-02"],
            ["docker.io/library/nginx:1.27", "registry.example.com/edge/agent:1.5.0"]),
        job("ef-berlin-9f8e7d6c5b", "berlin", ["edge-b-03"], ["docker.io/library/nginx:1.27"]),
        job("ef-shanghai-0a1b2c3d4e", "shanghai", ["edge-s-01", "edge-s-02", "edge-s-03"],
            ["registry.example.com/vision/inspector:2.5.0"]),
    ]
    return plan_dict(
        groups=[group("berlin", nodes=4, desired=8, present=3, jobs_create=2, jobs_delete=1, deferred=1),
                group("shanghai", nodes=3, desired=6, present=3, jobs_create=1, jobs_delete=1)],
        create=create,
        delete=[{"name": "ef-berlin-old0000001", "reason": "no longer desired on any of its nodes"},
                {"name": "ef-shanghai-stuck00001", "reason": "stuck: running past its deadline"}],
        deferred=[{"node": "edge-b-04", "reason": "node is not Ready; 2 image(s) wait for it"}],
        warnings=["group berlin: 1 selected node(s) lack the label node-role.kubernetes.io/edge"],
    )


@pytest.fixture
def fleet_plan() -> Callable[..., PlanDict]:
    """Build the plan of a large fleet: `nodes` nodes in `groups` groups, every node missing
    `images` images, 100 nodes per job, 4% of nodes deferred, a few stale jobs to delete."""

    def build(nodes: int = 100_000, groups: int = 42, images: int = 25) -> PlanDict:
        per_group = nodes // groups
        group_entries, create, deferred, delete = [], [], [], []
        for g in range(groups):
            name = f"site-{g:03d}-line-{'x' * 20}"
            members = [f"edge-{name}-{i:05d}" for i in range(per_group)]
            parked = members[: per_group // 25]
            targets = members[len(parked):]
            refs = [f"registry.example.com/plant/{name}/app-{i}:1.{i}.0" for i in range(images)]
            jobs = [job(f"ef-{name}-{c:010x}", name, targets[c:c + 100], refs)
                    for c in range(0, len(targets), 100)]
            create += jobs
            deferred += [{"node": n, "reason": "node is not Ready; 25 image(s) wait for it"} for n in parked]
            delete += [{"name": f"ef-{name}-old{i:07d}", "reason": "finished; evidence recorded"}
                       for i in range(5)]
            group_entries.append(group(name, nodes=per_group, desired=per_group * images,
                                       present=0, jobs_create=len(jobs), jobs_delete=5,
                                       deferred=len(parked)))
        return plan_dict(groups=group_entries, create=create, delete=delete, deferred=deferred,
                         warnings=[f"warning {i}: " + "w" * 150 for i in range(500)])

    return build
