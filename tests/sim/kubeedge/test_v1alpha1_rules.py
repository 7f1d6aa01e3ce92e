"""KubeEdge 1.16-1.20 ImagePrePullJob rules (docs/kubeedge.md §2.2, 3.1, 4.2) on the pure FSM."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from reconciler.sim.kubeedge.prepull import NodeFacts, PrePullSpec
from reconciler.sim.kubeedge.taskmanager_v1alpha1 import V1Executor, eligible_nodes, transition

T0 = datetime(2025, 7, 1, 8, 0, tzinfo=UTC)


def spec(**tpl: Any) -> PrePullSpec:
    return PrePullSpec.from_job({"spec": {"imagePrePullTemplate": tpl}})


@pytest.mark.parametrize(("state", "event", "action", "expected"), [
    pytest.param("", "Init", "Success", "Checking", id="empty-reads-as-init"),
    pytest.param("Checking", "Check", "Success", "Pulling", id="check-ok"),
    pytest.param("Pulling", "Pull", "Success", "Successful", id="pull-ok"),
    pytest.param("Pulling", "TimeOut", "Failure", "Failed", id="timeout"),
    pytest.param("Checking", "Check", "Failure", "Failed", id="check-failed"),
])
def test_fsm(state: str, event: str, action: str, expected: str) -> None:
    assert transition(state, event, action) == expected


@pytest.mark.parametrize(("targets", "expected"), [
    pytest.param([("a", NodeFacts("a", True, True)), ("b", NodeFacts("b", True, False))], ["a"],
                 id="not-ready-dropped-silently"),
    pytest.param([("a", NodeFacts("a", True, None))], ["a"], id="no-ready-condition-counts-as-ready"),
    pytest.param([("a", NodeFacts("a", True, True)), ("c", NodeFacts("c", False, True))], ["a"],
                 id="non-edge-dropped-silently"),
    pytest.param([("a", NodeFacts("a", True, True)), ("x", None)], None,
                 id="one-unknown-name-no-status-5531"),
    pytest.param([("b", NodeFacts("b", True, False))], None, id="nothing-left-no-status"),
    pytest.param([], None, id="no-nodes-no-status"),
])
def test_eligible(targets: list[tuple[str, NodeFacts | None]], expected: list[str] | None) -> None:
    assert eligible_nodes(spec(nodeNames=[t[0] for t in targets]), targets) == expected


def run_stage(ex: V1Executor, status: dict[str, Any], action: str = "Success",
              failing: frozenset[str] = frozenset()) -> dict[str, Any]:
    event = ex.event
    for node in ex.take(T0):
        status = ex.report(status, node, event, "Failure" if node in failing else action, "", None, T0)
    return status


def test_stage_barrier_then_success() -> None:
    ex = V1Executor.start("j", "u", spec(concurrency=5, failureTolerate="0.5"), ["a", "b"])
    status: dict[str, Any] = {}
    assert ex.take(T0) == ["a", "b"]
    status = ex.report(status, "a", "Init", "Success", "", None, T0)
    assert ex.event == "Init" and "state" not in status  # b has not finished Init yet
    status = ex.report(status, "b", "Init", "Success", "", None, T0)
    assert (ex.event, status["state"]) == ("Check", "Checking")
    status = run_stage(ex, status)
    assert status["state"] == "Pulling"
    status = run_stage(ex, status)
    assert (status["state"], status["event"], status["action"]) == ("Successful", "Pull", "Success")
    assert [e["nodeStatus"]["state"] for e in status["status"]] == ["Successful", "Successful"]
    assert ex.finished


@pytest.mark.parametrize(("tolerate", "nodes", "failing", "state"), [
    # default 0.1 with fewer than 10 nodes: one failure fails the job
    pytest.param("", 5, {"n0"}, "Failed", id="default-tolerance-0.1"),
    pytest.param("bogus", 20, {"n0"}, "Successful", id="unparsable-is-0.1-of-20"),
    # 0 < 0 is false: the job fails at the first report even when nothing failed (inferred)
    pytest.param("0", 3, set(), "Failed", id="zero-tolerance-always-fails"),
    pytest.param("0.5", 4, {"n0"}, "Successful", id="within-tolerance"),
])
def test_failure_tolerance(tolerate: str, nodes: int, failing: set[str], state: str) -> None:
    names = [f"n{i}" for i in range(nodes)]
    ex = V1Executor.start("j", "u", spec(concurrency=100, failureTolerate=tolerate), names)
    status: dict[str, Any] = {}
    for _ in range(3):
        status = run_stage(ex, status, failing=frozenset(failing))
    assert status["state"] == state
    if state == "Failed":
        assert status["reason"].startswith("the number of failed nodes is ")


@pytest.mark.parametrize(("timeout", "seconds"), [
    pytest.param(0, 300, id="zero-means-300"),
    pytest.param(None, 300, id="absent-means-300"),
    pytest.param(30, 30, id="explicit"),
])
def test_per_stage_timeout(timeout: int | None, seconds: int) -> None:
    tpl: dict[str, Any] = {"failureTolerate": "1"}
    if timeout is not None:
        tpl["timeoutSeconds"] = timeout
    ex = V1Executor.start("j", "u", spec(**tpl), ["a"])
    ex.take(T0)
    status, late = ex.expire({}, T0 + timedelta(seconds=seconds - 1))
    assert late == []
    status, late = ex.expire(status, T0 + timedelta(seconds=seconds))
    assert late == ["a"]
    node = status["status"][0]["nodeStatus"]
    assert (node["state"], node["event"], node["action"]) == ("Failed", "TimeOut", "Failure")
    assert status["state"] == "Failed"


def test_concurrency_limits_in_flight_nodes() -> None:
    ex = V1Executor.start("j", "u", spec(concurrency=-3, failureTolerate="1"), ["a", "b"])
    assert ex.take(T0) == ["a"]  # <= 0 means 1
    assert ex.take(T0) == []
