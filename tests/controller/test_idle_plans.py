"""An idle cycle reuses its plan (controller/idle.py, planmemo.py): table tests with real plans.

Each input changing forces a plan; time passing a moment the plan depends on forces a plan
(and planning then really gives another plan: the moment matters); nothing changed reuses it,
and the reused plan is the one planning would have given at that time.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest

from reconciler.controller.idle import PlanInputs, changed_input, why_plan
from reconciler.controller.planmemo import PlanMemo
from reconciler.inventory import format_time
from reconciler.kubeedge import V1ALPHA1, V1ALPHA2
from reconciler.manifests.rollout_policy import RolloutPolicy, Window
from reconciler.observed import ClusterFacts, InventoryFacts, inventory_from_object
from reconciler.observed.registry import ImageFacts
from reconciler.observed.rollouts import rollout_from_object
from reconciler.planner import Plan, PlannerSettings, plan_revision
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

NGINX = "docker.io/library/nginx:1.25"
LINE = group("line", ["nginx:1.25"], node_group="line")
SETTINGS = PlannerSettings()


def line_node(name: str, *images: str) -> dict[str, Any]:
    return node_object(name, labels={BELONGING: "line"}, images=[[i] for i in images])


def inventory(node: str, status: dict[str, Any]) -> InventoryFacts:
    return inventory_from_object({"metadata": {"name": node, "resourceVersion": "7"}, "status": status})


def backing_off(node: str, until: datetime) -> InventoryFacts:
    """`node` failed to pull nginx once and waits until `until` before a retry."""
    return inventory(node, {"failures": [{
        "image": NGINX, "attempts": 1, "lastError": "pull failed: 404", "lastJob": "ef-line-old",
        "lastAttempt": format_time(NOW - timedelta(minutes=10)), "retryAfter": format_time(until)}]})


def facts(nodes: Sequence[dict[str, Any]] = (line_node("edge-a", NGINX),),
          inventories: Sequence[InventoryFacts] = (), jobs: Sequence[dict[str, Any]] = (),
          **extra: Any) -> ClusterFacts:
    return ClusterFacts(tuple(nodes_facts(*nodes)), tuple(jobs_facts(*jobs)), tuple(inventories),
                        V1ALPHA2, True, **extra)


def inputs(cluster: ClusterFacts | None = None, **changes: Any) -> PlanInputs:
    base = PlanInputs(fleet(LINE), "c0ffee", cluster or facts(), None, SETTINGS)
    return replace(base, **changes)


def run(memo: PlanMemo, given: PlanInputs, at: datetime) -> Plan:
    return memo(given.fleet, given.facts, now=at, revision=given.revision, settings=given.settings,
                rollouts=given.rollouts)


def fresh(given: PlanInputs, at: datetime) -> Plan:
    return plan_revision(given.fleet, given.facts, now=at, revision=given.revision,
                         settings=given.settings, rollouts=given.rollouts)


def test_nothing_changed_reuses_the_plan_and_it_is_the_plan_of_now() -> None:
    memo, given = PlanMemo(), inputs()
    first = run(memo, given, NOW)
    later = NOW + timedelta(hours=5)
    assert run(memo, given, later) is first
    assert (memo.planned, memo.reused) == (1, 1)
    assert fresh(given, later) == first


BASE = facts()
CHANGES: list[tuple[str, Callable[[PlanInputs], PlanInputs]]] = [
    ("revision", lambda i: replace(i, revision="beef")),
    ("fleet", lambda i: replace(i, fleet=fleet(group("line", ["nginx:1.25", "redis:7"], node_group="line")))),
    ("nodes", lambda i: replace(i, facts=replace(i.facts, nodes=tuple(nodes_facts(
        line_node("edge-a", NGINX), line_node("edge-b")))))),
    # The same content in a new tuple (a LIST): planned, the caches' identity is the signal.
    ("nodes", lambda i: replace(i, facts=replace(i.facts, nodes=tuple(list(i.facts.nodes))))),
    ("jobs", lambda i: replace(i, facts=replace(i.facts, jobs=tuple(jobs_facts(job_object(
        "ef-other", [NGINX], ["edge-a"], managed=False)))))),
    ("inventories", lambda i: replace(i, facts=replace(i.facts, inventories=(inventory("edge-a", {}),)))),
    ("job dialect", lambda i: replace(i, facts=replace(i.facts, job_api_version=V1ALPHA1))),
    ("pull secrets", lambda i: replace(i, facts=replace(i.facts, secrets=frozenset({"edge/pull"})))),
    ("registry facts", lambda i: replace(i, facts=replace(i.facts, registry={
        NGINX: ImageFacts(reference=NGINX, exists=True, digest="sha256:" + "a" * 64)}))),
    ("rollouts", lambda i: replace(i, rollouts={"line": rollout_from_object(
        {"metadata": {"name": "line"}, "spec": {"group": "line", "paused": True}})})),
    ("planner settings", lambda i: replace(i, settings=PlannerSettings(attempt_limit=9))),
]


@pytest.mark.parametrize(("name", "change"), CHANGES, ids=[f"{n}-{k}" for k, (n, _) in enumerate(CHANGES)])
def test_each_input_changing_forces_a_plan(name: str, change: Callable[[PlanInputs], PlanInputs]) -> None:
    memo, given = PlanMemo(), inputs(BASE)
    first = run(memo, given, NOW)
    changed = change(given)
    assert changed_input(given, changed) == name
    assert why_plan(memo._last, changed, NOW + timedelta(seconds=1)) == f"{name} changed"
    run(memo, changed, NOW + timedelta(seconds=1))
    assert (memo.planned, memo.reused) == (2, 0)
    assert first is not None


def _pending_job() -> PlanInputs:
    # A job KubeEdge never started: stuck once pending_grace (10 min) after its creation.
    job = job_object("ef-line-1", [NGINX], ["edge-b"], created=format_time(NOW - timedelta(minutes=1)))
    return inputs(facts(nodes=(line_node("edge-a", NGINX), line_node("edge-b")), jobs=(job,)))


def _backoff() -> PlanInputs:
    return inputs(facts(nodes=(line_node("edge-a", NGINX), line_node("edge-b")),
                        inventories=(backing_off("edge-b", NOW + timedelta(minutes=30)),)))


def _finished_job() -> PlanInputs:
    # Finished 1 h before NOW + 30 min: its TTL passes then, and 3 newer finished jobs exist.
    done = v2_done()
    jobs = [job_object(f"ef-line-{k}", [NGINX], ["edge-a"], status=done,
                       created=format_time(NOW - timedelta(hours=2, minutes=k))) for k in range(4)]
    return inputs(facts(jobs=tuple(jobs), inventories=(inventory("edge-a", {"images": [
        {"image": NGINX, "source": "job/ef-line-0",
         "observedAt": format_time(NOW - timedelta(hours=1))}]}),)))


def v2_done() -> dict[str, Any]:
    return {"phase": "Completed", "nodeStatus": [{
        "nodeName": "edge-a", "phase": "Successful",
        "actionFlow": [{"action": "Pull", "status": "True",
                        "time": format_time(NOW - timedelta(minutes=30))}],
        "imageStatus": [{"image": NGINX, "status": "True"}]}]}


def _agent_report() -> PlanInputs:
    # A complete report 10 min old: stale 2 h after it was taken (FleetConfig's default).
    report = {"images": [{"image": NGINX, "sizeBytes": 1000}], "complete": True,
              "observedAt": format_time(NOW - timedelta(minutes=10)), "contentHash": "sha256:x"}
    return inputs(facts(inventories=(inventory("edge-a", {"agent": report}),)))


def _window() -> PlanInputs:
    windowed = replace(LINE, rollout=RolloutPolicy(windows=(Window("0 1 * * *", 4 * 3600, "UTC"),)))
    given = inputs(fleet=fleet(windowed))
    status = fresh(given, NOW).rollouts[0].to_status()  # as the cycle writes it, read back
    return replace(given, rollouts={"line": rollout_from_object(
        {"metadata": {"name": "line"}, "spec": {"group": "line"}, "status": status})})


MOMENTS: list[tuple[str, Callable[[], PlanInputs], timedelta, bool]] = [
    # (what, inputs, the moment after NOW, whether planning at the moment gives another plan)
    ("a back-off retry", _backoff, timedelta(minutes=30), True),
    ("a pending job's grace", _pending_job, timedelta(minutes=9), True),
    ("a finished job's TTL", _finished_job, timedelta(minutes=30), True),
    ("a fresh agent report turning stale", _agent_report, timedelta(minutes=110), True),
    ("a maintenance window opening", _window, timedelta(hours=13), False),
]


@pytest.mark.parametrize(("what", "make", "after", "differs"), MOMENTS, ids=[m[0] for m in MOMENTS])
def test_time_passing_a_due_moment_forces_a_plan(what: str, make: Callable[[], PlanInputs],
                                                 after: timedelta, differs: bool) -> None:
    memo, given = PlanMemo(), make()
    first = run(memo, given, NOW)
    assert not (first.create or first.delete or first.inventory_updates), f"{what}: not an idle plan"
    before = NOW + after - timedelta(seconds=1)
    assert run(memo, given, before) is first  # not due yet: reused, and rightly so
    assert fresh(given, before) == first
    past = NOW + after + timedelta(seconds=1)
    assert why_plan(memo._last, given, past) is not None
    replanned = run(memo, given, past)
    assert (memo.planned, memo.reused) == (2, 1)
    assert (replanned != first) is differs


def test_a_plan_with_writes_is_made_again_every_cycle() -> None:
    memo = PlanMemo()
    given = inputs(facts(nodes=(line_node("edge-a"),)))
    assert run(memo, given, NOW).create
    assert why_plan(memo._last, given, NOW) == "the last plan had writes to make"
    run(memo, given, NOW + timedelta(seconds=1))
    assert (memo.planned, memo.reused) == (2, 0)


def test_the_clock_going_back_and_forget_force_a_plan() -> None:
    memo, given = PlanMemo(), inputs()
    run(memo, given, NOW)
    assert why_plan(memo._last, given, NOW - timedelta(seconds=1)) == "the clock went back"
    memo.forget()
    run(memo, given, NOW)
    assert (memo.planned, memo.reused) == (2, 0)


def test_a_rollout_status_not_yet_recorded_is_a_write() -> None:
    given = _window()
    memo = PlanMemo()
    run(memo, replace(given, rollouts={}), NOW)  # the FleetRollout does not exist yet
    assert why_plan(memo._last, replace(given, rollouts={}), NOW) == "the last plan had writes to make"


def test_a_deadline_falling_exactly_at_the_plan_time_is_still_due() -> None:
    # The planner compares stuck deadlines strictly and leaves one at `now` out of revisit_at:
    # a plan made at that very instant is out of date a moment later.
    job = job_object("ef-line-1", [NGINX], ["edge-b"], created=format_time(NOW - timedelta(minutes=10)))
    given = inputs(facts(nodes=(line_node("edge-a", NGINX), line_node("edge-b")), jobs=(job,)))
    memo = PlanMemo()
    first = run(memo, given, NOW)
    assert not first.delete and first.revisit_at is None
    replanned = run(memo, given, NOW + timedelta(seconds=1))
    assert memo.reused == 0 and replanned.delete  # now stuck: replaced


def test_a_memo_that_does_not_remember_always_plans() -> None:
    memo, given = PlanMemo(remember=False), inputs()
    run(memo, given, NOW)
    run(memo, given, NOW)
    assert (memo.planned, memo.reused) == (2, 0)
