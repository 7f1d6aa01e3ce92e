"""KubeEdge 1.21+ ImagePrePullJob rules (docs/kubeedge.md §2.2, 3.2, 4.3) on the pure steps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from reconciler.sim.kubeedge.prepull import NodeFacts, PrePullSpec
from reconciler.sim.kubeedge.taskmanager_v1alpha2 import (
    TIMEOUT_REASON,
    EdgeReport,
    Executor,
    ImageResult,
    apply_report,
    calculate_phase,
    init_status,
    recalculate,
    timeout_nodes,
)

T0 = datetime(2025, 7, 1, 8, 0, tzinfo=UTC)
EDGE = NodeFacts("a", is_edge=True, ready=True)


def spec(**tpl: Any) -> PrePullSpec:
    return PrePullSpec.from_job({"spec": {"imagePrePullTemplate": tpl}})


@pytest.mark.parametrize(("template", "targets", "expected"), [
    pytest.param({"nodeNames": ["a"]}, [("a", EDGE)],
                 {"phase": "Init", "nodeStatus": [{"nodeName": "a", "phase": "Pending"}]}, id="ready-edge"),
    pytest.param({"nodeNames": ["c"]}, [("c", NodeFacts("c", False, True))],
                 {"phase": "Init", "nodeStatus": [{"nodeName": "c", "phase": "Failure",
                                                    "reason": "the node is not an edge node"}]},
                 id="not-edge"),
    pytest.param({"nodeNames": ["b"]}, [("b", NodeFacts("b", True, False))],
                 {"phase": "Init", "nodeStatus": [{"nodeName": "b", "phase": "Failure",
                                                    "reason": "the node is not ready"}]}, id="not-ready"),
    pytest.param({"nodeNames": ["b"]}, [("b", NodeFacts("b", True, None))],
                 {"phase": "Init", "nodeStatus": [{"nodeName": "b", "phase": "Failure",
                                                    "reason": "the node is not ready"}]},
                 id="no-ready-condition-is-not-ready"),
    pytest.param({"nodeNames": ["x"]}, [("x", None)],
                 {"phase": "Init", "nodeStatus": [{
                     "nodeName": "x", "phase": "Failure",
                     "reason": 'failed to get node, err: nodes "x" not found'}]},
                 id="unknown-name"),
    pytest.param({"nodeNames": ["a"], "labelSelector": {}}, [("a", EDGE)],
                 {"phase": "Failure",
                  "reason": "nodeNames and nodeSelector cannot be specified at the same time"},
                 id="both-set"),
    pytest.param({"images": ["nginx"]}, [],
                 {"phase": "Failure", "reason": "nodeNames and nodeSelector cannot both be empty"},
                 id="neither-set"),
    pytest.param({"labelSelector": {"matchLabels": {"k": "v"}}}, [],
                 {"phase": "Failure", "reason": "no nodes were matched with selector"},
                 id="selector-matches-nothing"),
])
def test_init(template: dict[str, Any], targets: list[tuple[str, NodeFacts | None]],
              expected: dict[str, Any]) -> None:
    assert init_status(spec(**template), targets) == expected


def nodes(*phases: str) -> dict[str, Any]:
    return {"phase": "InProgress",
            "nodeStatus": [{"nodeName": f"n{i}", "phase": p} for i, p in enumerate(phases)]}


@pytest.mark.parametrize(("status", "tolerate", "expected"), [
    pytest.param(nodes(), "1", "Failure", id="no-nodes"),
    pytest.param(nodes("Successful", "Pending"), "0", "InProgress", id="pending-keeps-running"),
    pytest.param(nodes("Failure", "InProgress"), "0", "InProgress", id="in-progress-keeps-running"),
    pytest.param(nodes("Successful", "Successful"), "", "Completed", id="all-ok"),
    pytest.param(nodes("Successful", "Failure"), "", "Failure", id="empty-tolerance-is-zero"),
    pytest.param(nodes("Successful", "Failure"), "lots", "Failure", id="unparsable-tolerance-is-zero"),
    pytest.param(nodes("Successful", "Failure"), "0.5", "Completed", id="half-within-half"),
    pytest.param(nodes("Successful", "Unknown"), "0.49", "Failure", id="unknown-counts-as-failed"),
    # 1/8 = 0.125 rounds half away from zero to 0.13 (Go math.Round), not to 0.12.
    pytest.param(nodes("Failure", *["Successful"] * 7), "0.12", "Failure", id="rounding-up"),
    pytest.param(nodes("Failure", *["Successful"] * 7), "0.13", "Completed", id="rounded-equal-ok"),
    # 1/3 = 0.333.. rounds to 0.33: not above 0.33.
    pytest.param(nodes("Failure", "Successful", "Successful"), "0.33", "Completed", id="rounding-down"),
])
def test_phase(status: dict[str, Any], tolerate: str, expected: str) -> None:
    assert calculate_phase(status, tolerate)[0] == expected


def test_failure_reason_names_the_counts() -> None:
    assert calculate_phase(nodes("Failure", "Unknown", "Successful"), "0.1") == (
        "Failure", "the number of failed nodes is 2/3, which exceeds the failure tolerance threshold")


def test_final_phase_is_never_recalculated() -> None:
    done = nodes("Successful")
    done["phase"] = "Failure"
    assert recalculate(done, spec(failureTolerate="1")) is None


def flow_at(seconds: float) -> dict[str, Any]:
    status = nodes("InProgress")
    status["nodeStatus"][0]["actionFlow"] = [
        {"action": "Check", "status": "True", "time": (T0 + timedelta(seconds=seconds)).strftime(
            "%Y-%m-%dT%H:%M:%SZ")}]
    return status


@pytest.mark.parametrize(("status", "timeout", "after", "timed_out"), [
    pytest.param(nodes("Pending"), 60, 61, ["n0"], id="pending-from-creation"),
    pytest.param(nodes("Pending"), 60, 60, [], id="not-yet"),
    pytest.param(flow_at(50), 60, 100, [], id="measured-from-last-action"),
    pytest.param(flow_at(50), 60, 111, ["n0"], id="last-action-too-old"),
    pytest.param(nodes("Pending"), 0, 10_000, [], id="zero-means-no-timeout"),
    pytest.param(nodes("Pending"), None, 10_000, [], id="absent-means-no-timeout"),
    pytest.param(nodes("Successful", "Failure"), 1, 10_000, [], id="final-nodes-untouched"),
])
def test_timeout(status: dict[str, Any], timeout: int | None, after: float, timed_out: list[str]) -> None:
    tpl = {} if timeout is None else {"timeoutSeconds": timeout}
    new, late = timeout_nodes(status, spec(**tpl), T0, T0 + timedelta(seconds=after))
    assert late == timed_out
    if timed_out:
        assert new is not None
        entry = new["nodeStatus"][0]
        assert (entry["phase"], entry["reason"]) == ("Unknown", TIMEOUT_REASON)


def test_timeout_only_while_in_progress() -> None:
    status = nodes("Pending")
    status["phase"] = "Init"
    assert timeout_nodes(status, spec(timeoutSeconds=1), T0, T0 + timedelta(hours=1)) == (None, [])


def test_late_report_overwrites_unknown() -> None:
    status, _ = timeout_nodes(nodes("InProgress"), spec(timeoutSeconds=1), T0, T0 + timedelta(seconds=5))
    assert status is not None
    late = EdgeReport("n0", "Pull", True, T0 + timedelta(seconds=9), images=(ImageResult("img", True),))
    entry = apply_report(status, late)["nodeStatus"][0]
    assert entry["phase"] == "Successful"
    assert "reason" not in entry
    assert entry["imageStatus"] == [{"image": "img", "status": "True"}]
    assert entry["actionFlow"][-1] == {"action": "Pull", "status": "True", "time": "2025-07-01T08:00:09Z"}


@pytest.mark.parametrize(("report", "phase"), [
    pytest.param(EdgeReport("n0", "Check", True, T0), "InProgress", id="check-ok-not-final"),
    pytest.param(EdgeReport("n0", "Check", False, T0, "check item gpu not support"), "Failure",
                 id="check-failed-final"),
    pytest.param(EdgeReport("n0", "Pull", False, T0, "there were some failures when pulling images"),
                 "Failure", id="pull-failed"),
])
def test_report_sets_node_phase(report: EdgeReport, phase: str) -> None:
    assert apply_report(nodes("InProgress"), report)["nodeStatus"][0]["phase"] == phase


@pytest.mark.parametrize(("wedge", "dispatched_after_timeout"), [
    pytest.param(True, [], id="wedged-slot-kept-7049"),
    pytest.param(False, ["n1"], id="fixed-slot-released"),
])
def test_executor_wedge(wedge: bool, dispatched_after_timeout: list[str]) -> None:
    ex = Executor.for_status("j", "uid", nodes("Pending", "Pending"), concurrency=0, wedge=wedge)
    assert ex.slots == 1  # concurrency <= 0 means 1
    assert ex.take() == ["n0"]
    assert ex.take() == []
    ex.timed_out("n0")  # a silent node: the controller-manager marks it Unknown
    assert ex.take() == dispatched_after_timeout


def test_executor_finishes_after_every_final_report() -> None:
    ex = Executor.for_status("j", "uid", nodes("Pending", "Failure", "Pending"), concurrency=5, wedge=True)
    assert ex.take() == ["n0", "n2"]  # only Pending nodes are dispatched
    ex.release("n0")
    assert not ex.finished
    ex.release("n2")
    assert ex.finished
