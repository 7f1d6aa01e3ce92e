"""Planner rules of docs/design.md §4, one named case each: what is created, deleted and deferred."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest

from reconciler.inventory import SILENT_PREFIX, STUCK_REASON
from reconciler.kubeedge import V1ALPHA2
from reconciler.manifests.fleet import JobPolicy
from reconciler.observed import InventoryFacts, inventory_from_object
from reconciler.planner import EmptyDesiredState, Plan, PlannerSettings, plan
from tests.fleet_builders import (
    BELONGING,
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
REDIS = "docker.io/library/redis:7"
MQTT = "docker.io/library/eclipse-mosquitto:2.0.18"
LINE = group("line", ["nginx:1.25", "redis:7"], node_group="line")


def line_node(name: str, images: tuple[str, ...] = (), ready: bool = True) -> dict[str, Any]:
    return node_object(name, labels={BELONGING: "line"}, images=[[i] for i in images], ready=ready)


def inventory(node: str, images: tuple[str, ...] = (), failures: tuple[dict[str, Any], ...] = ()
              ) -> InventoryFacts:
    return inventory_from_object({
        "metadata": {"name": node, "resourceVersion": "1"},
        "status": {"images": [{"image": i, "source": "job/ef-old", "observedAt": "2025-07-01T10:00:00Z"}
                              for i in images],
                   "failures": list(failures)},
    })


def run(the_fleet: Any = None, nodes: Any = (), jobs: Any = (), inventories: Any = (),
        settings: PlannerSettings | None = None, now: Any = NOW) -> Plan:
    return plan(the_fleet or fleet(LINE), nodes_facts(*nodes), jobs_facts(*jobs), list(inventories),
                now=now, revision="c0ffee", job_api_version=V1ALPHA2, settings=settings)


def created(result: Plan) -> list[tuple[str, tuple[str, ...], tuple[str, ...]]]:
    return [(j.group, j.images, j.node_names) for j in result.create]


def test_fresh_group_gets_one_labelled_job() -> None:
    result = run(nodes=[line_node("edge-b"), line_node("edge-a")])
    assert created(result) == [("line", (NGINX, REDIS), ("edge-a", "edge-b"))]
    manifest = result.create[0].manifest()
    assert re.fullmatch(r"ef-line-[0-9a-f]{10}", manifest["metadata"]["name"])
    assert manifest["metadata"]["labels"] == {"app.kubernetes.io/managed-by": "edgefleet",
                                              "edgefleet.io/group": "line"}
    assert manifest["metadata"]["annotations"] == {"edgefleet.io/revision": "c0ffee"}
    assert manifest["spec"]["imagePrePullTemplate"]["nodeNames"] == ["edge-a", "edge-b"]
    # No node reports images (KubeEdge's default nodeStatusMaxImages 0): absence is unknown.
    assert result.summary.pairs_unknown == 4 and result.summary.jobs_create == 1


def test_present_in_node_status_plans_nothing() -> None:
    result = run(nodes=[line_node("edge-a", (NGINX, REDIS))])
    assert result.create == () and not result.has_changes
    assert result.summary.pairs_present == 2


def test_job_never_pulls_an_image_a_node_does_not_desire_nor_bypasses_backoff() -> None:
    # edge-a holds nginx, edge-b nothing: one job {nginx, redis} serves both (nginx on edge-a is
    # a desired image it holds: a cheap no-op). edge-d's nginx is backing off, so edge-d gets a
    # job of its own; edge-c (other group, desires only mqtt) never shares a job with line.
    the_fleet = fleet(LINE, group("mqtt", ["eclipse-mosquitto:2.0.18"], names=["edge-c"]))
    result = run(the_fleet, nodes=[line_node("edge-a", (NGINX,)), line_node("edge-b"),
                                   node_object("edge-c"), line_node("edge-d")],
                 inventories=[inventory("edge-d", failures=(_failure(1, "2025-07-01T12:30:00Z"),))])
    assert sorted(created(result)) == [
        ("line", (NGINX, REDIS), ("edge-a", "edge-b")),
        ("line", (REDIS,), ("edge-d",)),
        ("mqtt", (MQTT,), ("edge-c",)),
    ]


def test_nodes_with_the_same_missing_set_sit_together() -> None:
    the_fleet = fleet(group("line", ["nginx:1.25", "redis:7"], node_group="line",
                            policy=JobPolicy(max_nodes_per_job=2)))
    result = run(the_fleet, nodes=[line_node("edge-1", (NGINX,)), line_node("edge-2"),
                                   line_node("edge-3", (NGINX,)), line_node("edge-4")])
    assert sorted(created(result)) == [
        ("line", (NGINX, REDIS), ("edge-2", "edge-4")),
        ("line", (REDIS,), ("edge-1", "edge-3")),
    ]


def test_chunks_of_at_most_max_nodes_per_job() -> None:
    the_fleet = fleet(group("line", ["nginx:1.25"], node_group="line",
                            policy=JobPolicy(max_nodes_per_job=2)))
    result = run(the_fleet, nodes=[line_node(f"edge-{i}") for i in range(5)])
    assert sorted(j.node_names for j in result.create) == [
        ("edge-0", "edge-1"), ("edge-2", "edge-3"), ("edge-4",)]


def test_jobs_are_cut_per_secret() -> None:
    the_fleet = fleet(group("line", ["nginx:1.25", ("redis:7", "ns/redis-pull")], node_group="line",
                            secret="ns/default"))
    result = run(the_fleet, nodes=[line_node("edge-a")])
    assert sorted((j.secret, j.images) for j in result.create) == [
        ("ns/default", (NGINX,)), ("ns/redis-pull", (REDIS,))]


def test_not_ready_nodes_are_deferred() -> None:
    result = run(nodes=[line_node("edge-a"), line_node("edge-b", ready=False)])
    assert created(result) == [("line", (NGINX, REDIS), ("edge-a",))]
    assert [(d.node, d.reason) for d in result.deferred] == [
        ("edge-b", "node is not Ready: KubeEdge would count it as failed; 2 image(s) wait for it")]
    assert result.summary.nodes_deferred == 1 and result.groups[0].counts.nodes_deferred == 1


def test_pairs_in_flight_are_not_planned_again() -> None:
    running = job_object("ef-line-running", [NGINX], ["edge-a"], created="2025-07-01T11:55:00Z",
                         status=v2_status("InProgress", {"edge-a": ("InProgress", {})}))
    result = run(nodes=[line_node("edge-a")], jobs=[running])
    assert created(result) == [("line", (REDIS,), ("edge-a",))]
    assert result.summary.pairs_in_flight == 1 and result.delete == ()


def _failure(attempts: int, retry_after: str, image: str = NGINX) -> dict[str, Any]:
    return {"image": image, "attempts": attempts, "lastError": "404", "lastJob": "ef-line-old",
            "lastAttempt": "2025-07-01T10:00:00Z", "retryAfter": retry_after}


def test_backing_off_pairs_wait_then_retry_under_a_new_name() -> None:
    nodes = [line_node("edge-a", (REDIS,))]
    waiting = run(nodes=nodes,
                  inventories=[inventory("edge-a", failures=(_failure(1, "2025-07-01T12:05:00Z"),))])
    assert waiting.create == () and waiting.summary.pairs_backing_off == 1
    first = run(nodes=nodes)
    retry = run(nodes=nodes,
                inventories=[inventory("edge-a", failures=(_failure(1, "2025-07-01T11:55:00Z"),))])
    assert created(retry) == created(first) == [("line", (NGINX,), ("edge-a",))]
    assert retry.create[0].attempt == 1 and retry.create[0].name != first.create[0].name


def test_attempt_limit_reports_failed_and_plans_nothing() -> None:
    result = run(nodes=[line_node("edge-a", (REDIS,))],
                 inventories=[inventory("edge-a", failures=(_failure(5, "2025-07-01T11:00:00Z"),))])
    assert result.create == () and result.summary.pairs_failed == 1


def test_failed_job_counts_one_attempt_once() -> None:
    failed = job_object("ef-line-f1", [NGINX], ["edge-a"], created="2025-07-01T11:50:00Z",
                        status=v2_status("Failure", {"edge-a": ("Failure", {NGINX: False})},
                                         time="2025-07-01T11:58:00Z"))
    nodes = [line_node("edge-a", (REDIS,))]
    first = run(nodes=nodes, jobs=[failed])
    (update,) = first.inventory_updates
    (record,) = update.status.failures
    assert (record.attempts, record.last_job, record.last_error) == (1, "ef-line-f1", "pull failed: 404")
    assert record.retry_after == "2025-07-01T12:03:00Z"  # 5 minutes after the failure
    assert first.create == () and first.summary.pairs_backing_off == 1
    # The next pass observes the recorded status: the same job is not counted again.
    again = run(nodes=nodes, jobs=[failed],
                inventories=[inventory_from_object({"metadata": {"name": "edge-a"},
                                                    "status": update.status_dict()})])
    assert again.inventory_updates == ()


def test_silent_success_confirms_nothing() -> None:
    silent = job_object("ef-line-v1", [NGINX], ["edge-a"], api_version="operations.kubeedge.io/v1alpha1",
                        created="2025-07-01T11:58:00Z",
                        status={"state": "Successful", "status": [{"nodeStatus": {
                            "nodeName": "edge-a", "state": "Successful"}}]})
    result = run(nodes=[line_node("edge-a", (REDIS,))], jobs=[silent])
    assert result.summary.pairs_present == 1 and result.summary.pairs_backing_off == 1
    (update,) = result.inventory_updates
    assert update.status.images == () and update.status.failures[0].attempts == 1


def test_stuck_job_is_deleted_and_its_silent_nodes_marked_failed() -> None:
    # created 11:00, 2 nodes at concurrency 1, timeout 300: deadline 2 x 300 s x 2 + 5 min = 25 min
    stuck = job_object("ef-line-stuck", [NGINX], ["edge-a", "edge-b"], concurrency=1,
                       status=v2_status("InProgress", {"edge-a": ("Successful", {NGINX: True}),
                                                       "edge-b": ("InProgress", {})}))
    result = run(nodes=[line_node("edge-a", (REDIS,)), line_node("edge-b", (REDIS,))], jobs=[stuck])
    assert [(d.name, d.reason.split(",")[0]) for d in result.delete] == [
        ("ef-line-stuck", "stuck: in progress 60m after creation")]
    updates = {u.node: u.status for u in result.inventory_updates}
    assert [i.image for i in updates["edge-a"].images] == [NGINX]
    assert updates["edge-b"].failures[0].last_error == SILENT_PREFIX + STUCK_REASON
    assert result.create == ()  # edge-b backs off; edge-a holds it


def test_job_within_deadline_is_not_stuck() -> None:
    running = job_object("ef-line-run", [NGINX], ["edge-a"], created="2025-07-01T11:50:00Z",
                         status=v2_status("InProgress", {"edge-a": ("InProgress", {})}))
    result = run(nodes=[line_node("edge-a", (REDIS,))], jobs=[running])
    assert result.delete == () and result.create == ()


def test_job_without_phase_too_long_is_stuck() -> None:
    never = job_object("ef-line-never", [NGINX], ["edge-a"], created="2025-07-01T11:30:00Z")
    result = run(nodes=[line_node("edge-a", (REDIS,))], jobs=[never])
    assert [d.name for d in result.delete] == ["ef-line-never"]
    assert "controller-manager" in result.delete[0].reason


def _done(name: str, created: str, finished: str) -> dict[str, Any]:
    return job_object(name, [NGINX], ["edge-a"], created=created,
                      status=v2_status("Completed", {"edge-a": ("Successful", {NGINX: True})}, time=finished))


@pytest.mark.parametrize(
    ("recorded", "finished", "keep", "deleted"),
    [
        pytest.param(True, "2025-07-01T10:30:00Z", 0, ["ef-line-done"], id="recorded-and-ttl-passed"),
        pytest.param(False, "2025-07-01T10:30:00Z", 0, [], id="evidence-not-yet-recorded"),
        pytest.param(True, "2025-07-01T11:30:00Z", 0, [], id="ttl-not-passed"),
        pytest.param(True, "2025-07-01T10:30:00Z", 1, [], id="newest-kept-for-debugging"),
    ],
)
def test_garbage_collection_of_finished_jobs(recorded: bool, finished: str, keep: int,
                                             deleted: list[str]) -> None:
    inventories = [inventory("edge-a", (NGINX,))] if recorded else []
    result = run(nodes=[line_node("edge-a", (REDIS,))],
                 jobs=[_done("ef-line-done", "2025-07-01T10:00:00Z", finished)],
                 inventories=inventories, settings=PlannerSettings(keep_newest=keep))
    assert [d.name for d in result.delete] == deleted
    assert result.create == ()  # the job's evidence makes nginx present either way
    assert len(result.inventory_updates) == (0 if recorded else 1)


def test_unfinished_job_no_longer_desired_is_deleted() -> None:
    old = job_object("ef-line-old", ["docker.io/library/nginx:1.24"], ["edge-a"],
                     status=v2_status("InProgress", {"edge-a": ("InProgress", {})}))
    result = run(nodes=[line_node("edge-a", (NGINX, REDIS))], jobs=[old])
    assert [(d.name, d.reason) for d in result.delete] == [
        ("ef-line-old", "no longer desired on any of its nodes")]


def test_unmanaged_jobs_are_never_touched_but_their_evidence_counts() -> None:
    foreign = job_object("someone-elses", [NGINX, "docker.io/library/busybox:1"], ["edge-a"],
                         managed=False, created="2025-06-01T00:00:00Z",
                         status=v2_status("Completed", {"edge-a": ("Successful", {NGINX: True})}))
    result = run(nodes=[line_node("edge-a", (REDIS,))], jobs=[foreign])
    assert result.delete == () and result.create == ()
    assert [i.source for i in result.inventory_updates[0].status.images] == ["job/someone-elses"]


def test_terminating_jobs_are_not_in_flight_nor_deleted_again() -> None:
    going = job_object("ef-line-going", [NGINX], ["edge-a"], deleting=True,
                       status=v2_status("InProgress", {"edge-a": ("InProgress", {})}))
    result = run(nodes=[line_node("edge-a", (REDIS,))], jobs=[going])
    assert result.delete == () and created(result) == [("line", (NGINX,), ("edge-a",))]


def test_empty_desired_state_is_refused_unless_allowed() -> None:
    running = job_object("ef-line-run", [NGINX], ["edge-a"],
                         status=v2_status("InProgress", {"edge-a": ("InProgress", {})}))
    with pytest.raises(EmptyDesiredState, match=r"desires no image.*allowEmpty"):
        run(fleet(), nodes=[line_node("edge-a")], jobs=[running])
    with pytest.raises(EmptyDesiredState, match="selects no edge node"):
        run(nodes=[node_object("edge-x")], jobs=[running])
    allowed = run(fleet(allow_empty=True), nodes=[line_node("edge-a")], jobs=[running])
    assert [d.name for d in allowed.delete] == ["ef-line-run"] and allowed.create == ()


def test_suspended_group_plans_nothing_but_counts() -> None:
    the_fleet = fleet(group("line", ["nginx:1.25"], node_group="line", suspend=True))
    result = run(the_fleet, nodes=[line_node("edge-a")])
    assert result.create == () and result.summary.pairs_unknown == 1
    assert result.groups[0].suspended


def test_long_group_names_give_dns_names_of_63_chars() -> None:
    long_name = "a-very-long-group-name-that-goes-on-and-on-and-on-past-the-limit.of.dns"
    the_fleet = fleet(group(long_name, ["nginx:1.25"], node_group="line"))
    (job,) = run(the_fleet, nodes=[line_node("edge-a")]).create
    assert len(job.name) <= 63
    assert re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", job.name)


def test_truncated_image_lists_make_absence_unknown() -> None:
    full = (NGINX, "docker.io/library/busybox:1")  # 2 entries = the cap
    result = run(nodes=[line_node("edge-a", full), line_node("edge-b", (NGINX,))],
                 settings=PlannerSettings(image_cap=2))
    assert (result.summary.pairs_unknown, result.summary.pairs_missing) == (1, 1)
    assert sorted(created(result)) == [("line", (REDIS,), ("edge-a", "edge-b"))]  # both planned


def test_inventory_object_confirms_presence_and_node_status_clears_failures() -> None:
    result = run(nodes=[line_node("edge-a", (REDIS,))],
                 inventories=[inventory("edge-a", (NGINX,),
                                        failures=(_failure(2, "2025-07-01T13:00:00Z", REDIS),))])
    assert result.create == ()
    (update,) = result.inventory_updates
    # redis is reported by the node: no longer failing, the counted job is still remembered
    assert [(f.attempts, f.retry_after, f.last_job) for f in update.status.failures] == [
        (0, "", "ef-line-old")]


def test_name_collision_with_an_existing_job_gets_a_new_name() -> None:
    first = run(nodes=[line_node("edge-a")])
    name = first.create[0].name
    done = job_object(name, [NGINX, REDIS], ["edge-a"], created="2025-07-01T11:59:00Z",
                      status=v2_status("Completed", {"edge-a": ("Successful", {})}))
    again = run(nodes=[line_node("edge-a")], jobs=[done],
                settings=PlannerSettings(backoff_base=timedelta(0)))
    assert again.create and again.create[0].name != name


WITH_MQTT = group("line", ["nginx:1.25", "redis:7", "eclipse-mosquitto:2.0.18"], node_group="line")
_BACKING = inventory("edge-a", failures=(_failure(1, "2025-07-01T12:05:00Z"),))
_RUNNING = job_object("ef-line-run", [NGINX], ["edge-a"], created="2025-07-01T11:50:00Z",
                      status=v2_status("InProgress", {"edge-a": ("InProgress", {})}))


@pytest.mark.parametrize(
    ("jobs", "inventories", "expected"),
    [
        pytest.param([], [inventory("edge-a", (NGINX, MQTT))], None, id="converged-nothing-scheduled"),
        pytest.param([], [_BACKING], "2025-07-01T12:05:00", id="a-retry-falls-due"),
        pytest.param([], [inventory("edge-a", failures=(_failure(1, "2025-07-01T11:55:00Z"),))], None,
                     id="a-due-retry-is-planned-now-not-later"),
        # 1 node, timeout 300, slack 2, grace 5 min: stuck 15 min after creation (11:50).
        pytest.param([_RUNNING], [], "2025-07-01T12:05:00", id="a-running-job-reaches-its-deadline"),
        # finished 11:30 with the newest one kept: its TTL (1 h) passes at 12:30.
        pytest.param([_done("ef-line-done", "2025-07-01T11:00:00Z", "2025-07-01T11:30:00Z")],
                     [inventory("edge-a", (NGINX,))], "2025-07-01T12:30:00", id="a-ttl-passes"),
        pytest.param([_done("ef-line-done", "2025-07-01T11:00:00Z", "2025-07-01T11:30:00Z")],
                     [inventory("edge-a", (NGINX,), (_failure(1, "2025-07-01T12:05:00Z", MQTT),))],
                     "2025-07-01T12:05:00", id="the-earliest-wins"),
    ],
)
def test_revisit_at_is_when_the_plan_would_change_without_an_event(
        jobs: list[dict[str, Any]], inventories: list[InventoryFacts], expected: str | None) -> None:
    result = run(the_fleet=fleet(WITH_MQTT), nodes=[line_node("edge-a", (REDIS,))], jobs=jobs,
                 inventories=inventories)
    got = result.revisit_at.strftime("%Y-%m-%dT%H:%M:%S") if result.revisit_at else None
    assert got == expected
    if expected is not None:
        # Planning again at that moment changes something (a create or a delete).
        later = run(the_fleet=fleet(WITH_MQTT), nodes=[line_node("edge-a", (REDIS,))], jobs=jobs,
                    inventories=inventories,
                    now=result.revisit_at + timedelta(seconds=1), settings=PlannerSettings(keep_newest=0))
        assert later.create or later.delete
