"""Regressions found in review, one named case each: a scenario gives (what happened, what a
user expects). Each failed before its fix."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from reconciler.kubeedge import V1ALPHA2, build_job_manifest
from reconciler.manifests.fleet import JobPolicy, SourceLocation
from reconciler.observed import InventoryFacts, inventory_from_object
from reconciler.planner import Plan, PlannerSettings, diff_fleets, plan
from tests.fleet_builders import (
    NOW,
    fleet,
    group,
    job_object,
    jobs_facts,
    node_object,
    nodes_facts,
    v2_status,
)

NGINX = "docker.io/library/nginx:1.25"
DIGEST = "sha256:" + "a" * 64
LINE = group("line", ["nginx:1.25"], names=["edge-1"])
FAILED = v2_status("Failure", {"edge-1": ("Failure", {NGINX: False})}, time="2025-07-01T01:05:00Z")
OLD_FAILED_JOB = job_object("ef-line-1", [NGINX], ["edge-1"], created="2025-07-01T01:00:00Z",
                            status=FAILED)


def run(groups: Any = (LINE,), nodes: Any = (), jobs: Any = (), inventories: Any = (),
        now: Any = NOW, settings: PlannerSettings | None = None) -> Plan:
    return plan(fleet(*groups), nodes_facts(*(nodes or [node_object("edge-1")])), jobs_facts(*jobs),
                list(inventories), now=now, revision="r", job_api_version=V1ALPHA2, settings=settings)


def inventory(failures: list[dict[str, Any]] = (), node: str = "edge-1") -> InventoryFacts:  # type: ignore[assignment]
    return inventory_from_object({"metadata": {"name": node, "resourceVersion": "2"},
                                  "status": {"failures": list(failures)}})


def suspended_group_does_not_block() -> tuple[object, object]:
    paused = group("a-paused", ["nginx:1.25"], names=["edge-1"], suspend=True)
    live = group("b-live", ["nginx:1.25"], names=["edge-1"])
    return [(j.group, j.images) for j in run((paused, live)).create], [("b-live", (NGINX,))]


def short_named_unmanaged_job_is_evidence() -> tuple[object, object]:
    manual = job_object("manual", ["nginx:1.25"], ["edge-1"], managed=False,
                        status=v2_status("Completed", {"edge-1": ("Successful", {"nginx:1.25": True})}))
    result = run(jobs=[manual])
    return (result.create, result.summary.pairs_present), ((), 1)


def tag_and_digest_pin_matches_node_status() -> tuple[object, object]:
    pinned = group("line", ["nginx:1.25@" + DIGEST], names=["edge-1"])
    node = node_object("edge-1", images=[["docker.io/library/nginx@" + DIGEST, NGINX]])
    return run((pinned,), nodes=[node]).create, ()


def tag_and_digest_pin_confirmed_by_a_job_naming_the_digest() -> tuple[object, object]:
    pinned = group("line", ["nginx:1.25@" + DIGEST], names=["edge-1"])
    manual = job_object("manual", ["nginx@" + DIGEST], ["edge-1"], managed=False,
                        status=v2_status("Completed", {"edge-1": ("Successful", {"nginx@" + DIGEST: True})}))
    result = run((pinned,), jobs=[manual])
    images = [i.image for u in result.inventory_updates for i in u.status.images]
    return (result.create, images), ((), [f"docker.io/library/nginx:1.25@{DIGEST}"])


def failed_job_collected_once_the_node_holds_the_image() -> tuple[object, object]:
    result = run(nodes=[node_object("edge-1", images=[[NGINX]])], jobs=[OLD_FAILED_JOB],
                 inventories=[inventory()], now=NOW + timedelta(days=30),
                 settings=PlannerSettings(keep_newest=0))
    return [d.name for d in result.delete], ["ef-line-1"]


def cleared_record_keeps_its_marker() -> tuple[object, object]:
    # ef-line-1 was counted; then nginx arrived by other means (the record is cleared); later it
    # vanished again: the old job must not be counted a second time.
    counted = {"image": NGINX, "attempts": 1, "lastError": "404", "lastAttempt": "2025-07-01T01:00:00Z",
               "lastJob": "ef-line-1", "retryAfter": "2025-07-01T01:10:00Z"}
    holding = run(nodes=[node_object("edge-1", images=[[NGINX]])], jobs=[OLD_FAILED_JOB],
                  inventories=[inventory([counted])])
    (update,) = holding.inventory_updates
    cleared = inventory_from_object({"metadata": {"name": "edge-1"}, "status": update.status_dict()})
    later = run(jobs=[OLD_FAILED_JOB], inventories=[cleared], now=NOW + timedelta(days=1))
    attempts = [f.attempts for u in later.inventory_updates for f in u.status.failures]
    return (attempts, len(later.create)), ([], 1)


def old_failure_without_record_does_not_back_off() -> tuple[object, object]:
    result = run(jobs=[OLD_FAILED_JOB], inventories=[inventory()], now=NOW + timedelta(days=30))
    return len(result.create), 1


def stuck_replacement_never_reuses_a_name() -> tuple[object, object]:
    def stuck(name: str, created: str) -> dict[str, Any]:
        return job_object(name, [NGINX], ["edge-1"], created=created, status={
            "phase": "InProgress", "nodeStatus": [{"nodeName": "edge-1", "phase": "Pending"}]})
    names = [run().create[0].name]
    inventories: list[InventoryFacts] = []
    for minutes in (20, 40, 60):
        result = run(jobs=[stuck(names[-1], (NOW + timedelta(minutes=minutes - 20)).strftime(
            "%Y-%m-%dT%H:%M:%SZ"))], inventories=inventories, now=NOW + timedelta(minutes=minutes))
        inventories = [inventory_from_object({"metadata": {"name": u.node}, "status": u.status_dict()})
                       for u in result.inventory_updates] or inventories
        names.append(result.create[0].name)
    return len(set(names)), len(names)


def refused_node_backs_off_without_an_attempt() -> tuple[object, object]:
    refused = job_object("ef-line-r", [NGINX], ["edge-1"], created="2025-07-01T11:59:00Z", status={
        "phase": "Failure", "nodeStatus": [{"nodeName": "edge-1", "phase": "Failure",
                                            "reason": "node edge-1 is not ready"}]})
    result = run(jobs=[refused])
    (record,) = result.inventory_updates[0].status.failures
    return ((result.create, record.attempts, record.retry_after, result.summary.pairs_backing_off),
            ((), 0, "2025-07-01T12:05:00Z", 1))


def manifest_change_resets_the_attempt_limit() -> tuple[object, object]:
    spent = {"image": NGINX, "attempts": 5, "lastError": "401", "lastAttempt": "2025-07-01T10:00:00Z",
             "lastJob": "ef-line-x", "retryAfter": "2025-07-01T11:00:00Z"}
    fixed = group("line", ["nginx:1.25"], names=["edge-1"], secret="ns/fixed-cred")
    before, after = run(inventories=[inventory([spent])]), run((fixed,), inventories=[inventory([spent])])
    return ((len(before.create), before.summary.pairs_failed), (len(after.create), after.summary.pairs_failed)
            ), ((0, 1), (1, 0))


def moving_a_group_in_its_file_is_no_change() -> tuple[object, object]:
    at_1 = dataclasses.replace(LINE, source=SourceLocation("fleet.yaml", 1))
    at_12 = dataclasses.replace(LINE, source=SourceLocation("fleet.yaml", 12))
    return diff_fleets(fleet(at_1), fleet(at_12), nodes_facts(node_object("edge-1"))).groups, ()


def timeout_times_waves_fits_int32() -> tuple[object, object]:
    manifest = build_job_manifest(
        name="ef-x", api_version=V1ALPHA2, images=[NGINX], node_names=[f"n{i}" for i in range(100)],
        policy=JobPolicy(concurrency=1, timeout_seconds=86_400_000), secret=None, labels={},
        annotations={})
    return manifest["spec"]["imagePrePullTemplate"]["timeoutSeconds"], 2_147_483_647


def inventory_of_a_node_missing_from_the_list_is_kept() -> tuple[object, object]:
    kept = {"image": NGINX, "attempts": 2, "lastError": "404", "lastAttempt": "2025-07-01T10:00:00Z",
            "lastJob": "ef-line-x", "retryAfter": "2025-07-01T13:00:00Z"}
    result = run(inventories=[inventory([kept], node="edge-gone")])
    return result.inventory_updates, ()


CASES: list[Any] = [
    pytest.param(suspended_group_does_not_block, id="suspended-group-does-not-block-an-active-one"),
    pytest.param(short_named_unmanaged_job_is_evidence, id="unmanaged-job-with-a-short-name-is-evidence"),
    pytest.param(tag_and_digest_pin_matches_node_status, id="tag-and-digest-pin-matches-kubelet-names"),
    pytest.param(tag_and_digest_pin_confirmed_by_a_job_naming_the_digest,
                 id="tag-and-digest-pin-confirmed-by-a-job-naming-the-digest"),
    pytest.param(failed_job_collected_once_the_node_holds_the_image,
                 id="failed-job-collected-once-the-node-holds-the-image"),
    pytest.param(cleared_record_keeps_its_marker, id="cleared-record-keeps-its-counted-through-marker"),
    pytest.param(old_failure_without_record_does_not_back_off,
                 id="backoff-runs-from-the-failure-not-from-when-it-is-read"),
    pytest.param(stuck_replacement_never_reuses_a_name, id="stuck-job-replacement-never-reuses-a-name"),
    pytest.param(refused_node_backs_off_without_an_attempt, id="refused-node-backs-off-without-an-attempt"),
    pytest.param(manifest_change_resets_the_attempt_limit, id="manifest-change-resets-the-attempt-limit"),
    pytest.param(moving_a_group_in_its_file_is_no_change, id="moving-a-group-in-its-file-is-no-change"),
    pytest.param(timeout_times_waves_fits_int32, id="timeout-times-waves-clamped-to-int32"),
    pytest.param(inventory_of_a_node_missing_from_the_list_is_kept,
                 id="inventory-of-a-node-missing-from-the-list-is-kept"),
]


@pytest.mark.parametrize("scenario", CASES)
def test_review_regression(scenario: Callable[[], tuple[object, object]]) -> None:
    actual, expected = scenario()
    assert actual == expected
