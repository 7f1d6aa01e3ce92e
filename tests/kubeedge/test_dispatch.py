"""A silent node must not cost its neighbours anything (kubeedge#7049 and the 1.21 timeout that
runs from the job's creation for queued nodes): who was dispatched and is charged, quarantine of
suspects, and the timeoutSeconds a job carries."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.inventory import SILENT_PREFIX, went_silent
from reconciler.kubeedge import V1ALPHA1, V1ALPHA2, read_job
from reconciler.manifests.fleet import JobPolicy
from reconciler.observed import inventory_from_object
from reconciler.planner import Plan, PlannerSettings, plan
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
T0 = "2025-07-01T11:00:00Z"
TIMED_OUT = "The node task has timed out"
NODES = ("n1", "n2", "n3", "n4", "n5", "n6")


def v2(phase: str, **nodes: tuple[str, list[str]]) -> dict[str, Any]:
    """A v1alpha2 status: node -> (phase, actions reported, each "Check"/"Pull"/"Pull!" failed)."""
    entries = []
    for name, (node_phase, actions) in nodes.items():
        entry: dict[str, Any] = {"nodeName": name, "phase": node_phase}
        if node_phase == "Unknown":
            entry["reason"] = TIMED_OUT
        if actions:
            entry["actionFlow"] = [{"action": a.rstrip("!"), "status": "False" if a.endswith("!") else "True",
                                    "time": "2025-07-01T11:01:00Z"} for a in actions]
        if "Pull" in actions:
            entry["imageStatus"] = [{"image": NGINX, "status": "True"}]
        if "Pull!" in actions:
            entry["imageStatus"] = [{"image": NGINX, "status": "False", "reason": "manifest unknown"}]
        entries.append(entry)
    return {"phase": phase, "nodeStatus": entries}


def v1(state: str, **nodes: tuple[str, str]) -> dict[str, Any]:
    """A v1alpha1 status: node -> (state, event)."""
    return {"state": state, "status": [
        {"nodeStatus": {"nodeName": n, "state": s, "event": e,
                        "action": "Failure" if s == "Failed" else "Success"},
         **({"imageStatus": [{"image": NGINX, "state": "Successful"}]} if s == "Successful" else {})}
        for n, (s, e) in nodes.items()]}


@pytest.mark.parametrize(
    ("api_version", "concurrency", "status", "charged", "silent"),
    [
        pytest.param(V1ALPHA2, 1, v2("Failure", **{n: ("Unknown", []) for n in NODES}),
                     {"n1"}, {"n1"}, id="v2-all-timed-out-from-creation-only-the-first-slot-was-asked"),
        pytest.param(V1ALPHA2, 10, v2("Failure", **{n: ("Unknown", []) for n in NODES}),
                     set(NODES), set(NODES), id="v2-one-wave-every-node-was-asked"),
        pytest.param(V1ALPHA2, 2, v2("Failure", n1=("Unknown", []), n2=("Successful", ["Pull"]),
                                     n3=("Unknown", []), n4=("Unknown", []), n5=("Unknown", [])),
                     {"n1", "n3"}, {"n1", "n3"}, id="v2-both-slots-wedged-the-rest-queued"),
        pytest.param(V1ALPHA2, 1, v2("InProgress", n1=("InProgress", []), n2=("Pending", []),
                                     n3=("Pending", [])),
                     set(), {"n1"}, id="v2-running-nothing-final-yet"),
        pytest.param(V1ALPHA2, 1, v2("Completed", n1=("Successful", ["Pull"]), n2=("Failure", []),
                                     n3=("Unknown", ["Check"])),
                     {"n3"}, {"n3"}, id="v2-refused-at-init-not-charged-silent-after-check-charged"),
        pytest.param(V1ALPHA2, 1, v2("Completed", n1=("Failure", ["Pull!"]), n2=("Successful", ["Pull"])),
                     {"n1"}, set(), id="v2-reported-failure-charged-not-silent"),
        pytest.param(V1ALPHA1, 1, v1("Failed", n1=("Failed", "Pull")),
                     {"n1"}, set(), id="v1-stopped-by-tolerance-rest-never-dispatched"),
        pytest.param(V1ALPHA1, 1, v1("Failed", n1=("Failed", "TimeOut"), n2=("Checking", "Init")),
                     {"n1"}, {"n1"}, id="v1-timed-out-charged-left-between-stages-not"),
    ],
)
def test_only_dispatched_nodes_are_charged(api_version: str, concurrency: int, status: dict[str, Any],
                                           charged: set[str], silent: set[str]) -> None:
    nodes = [e["nodeName"] for e in status.get("nodeStatus", ())] or list(NODES[:3])
    (job,) = jobs_facts(job_object("ef-line-x", [NGINX], nodes, api_version=api_version,
                                   concurrency=concurrency, status=status))
    reading = read_job(job)
    assert {n for n, e in reading.evidence.items() if e.failed} == charged
    assert {n for n, e in reading.evidence.items() if e.silent} == silent


def line_node(name: str) -> dict[str, Any]:
    return node_object(name, labels={BELONGING: "line"}, images=[["docker.io/library/busybox:1"]])


def failure_record(node: str, error: str, attempt: str = "2025-07-01T11:00:00Z",
                   retry_after: str = "2025-07-01T11:30:00Z") -> Any:
    return inventory_from_object({"metadata": {"name": node, "resourceVersion": "1"}, "status": {
        "failures": [{"image": NGINX, "attempts": 1, "lastError": error, "lastAttempt": attempt,
                      "lastJob": "ef-line-old", "retryAfter": retry_after}]}})


def run(jobs: list[dict[str, Any]] = (), inventories: list[Any] = (),  # type: ignore[assignment]
        concurrency: int = 1, api_version: str = V1ALPHA2) -> Plan:
    line = group("line", ["nginx:1.25"], node_group="line", policy=JobPolicy(concurrency=concurrency))
    return plan(fleet(line), nodes_facts(*(line_node(n) for n in NODES)), jobs_facts(*jobs),
                list(inventories), now=NOW, revision="c0ffee", job_api_version=api_version,
                settings=PlannerSettings())


def test_a_stuck_job_charges_its_silent_node_and_replans_the_queued_ones() -> None:
    wedged = job_object("ef-line-wedged", [NGINX], list(NODES), concurrency=1, timeout=1800,
                        status=v2("InProgress", n1=("InProgress", []),
                                  **{n: ("Pending", []) for n in NODES[1:]}))
    result = run([wedged])
    assert [d.name for d in result.delete] == ["ef-line-wedged"]
    records = {u.node: u.status.failures[0] for u in result.inventory_updates}
    assert records["n1"].attempts == 1 and records["n1"].last_error.startswith(SILENT_PREFIX)
    # The queued nodes are not charged, but remember the job, so their retry gets a new name.
    assert {n: (r.attempts, r.last_job) for n, r in records.items() if n != "n1"} == {
        n: (0, "ef-line-wedged") for n in NODES[1:]}
    assert [j.node_names for j in result.create] == [NODES[1:]]


@pytest.mark.parametrize(
    ("error", "solo"),
    [
        pytest.param(SILENT_PREFIX + TIMED_OUT, True, id="went-silent-gets-its-own-job"),
        pytest.param("rpc error: manifest unknown", False, id="reported-failure-stays-with-its-group"),
    ],
)
def test_suspects_are_quarantined_after_their_backoff(error: str, solo: bool) -> None:
    result = run(inventories=[failure_record("n1", error)])
    expected = [("n1",), NODES[1:]] if solo else [NODES]
    assert sorted(j.node_names for j in result.create) == sorted(expected)
    again = run(inventories=[failure_record("n1", error)])
    assert [j.name for j in again.create] == [j.name for j in result.create]  # deterministic
    assert len({j.name for j in result.create}) == len(result.create)


def test_a_suspect_still_backing_off_gets_no_job() -> None:
    record = failure_record("n1", SILENT_PREFIX + TIMED_OUT, retry_after="2025-07-01T12:30:00Z")
    result = run(inventories=[record])
    assert [j.node_names for j in result.create] == [NODES[1:]]


@pytest.mark.parametrize(
    ("failures", "suspect"),
    [
        pytest.param([], False, id="no-failures"),
        pytest.param([("a", SILENT_PREFIX + TIMED_OUT, "2025-07-01T11:00:00Z")], True, id="silent"),
        pytest.param([("a", SILENT_PREFIX + TIMED_OUT, "2025-07-01T10:00:00Z"),
                      ("b", "manifest unknown", "2025-07-01T11:00:00Z")], False,
                     id="answered-since-it-went-silent"),
        pytest.param([("a", "manifest unknown", "2025-07-01T10:00:00Z"),
                      ("b", SILENT_PREFIX + TIMED_OUT, "2025-07-01T11:00:00Z")], True,
                     id="went-silent-since-it-answered"),
    ],
)
def test_suspect_is_judged_by_the_newest_failure(failures: list[tuple[str, str, str]], suspect: bool) -> None:
    inventory = inventory_from_object({"metadata": {"name": "n1"}, "status": {"failures": [
        {"image": i, "attempts": 1, "lastError": e, "lastAttempt": t, "lastJob": "ef-line-j"}
        for i, e, t in failures]}})
    assert went_silent(inventory.status) is suspect


@pytest.mark.parametrize(
    ("api_version", "nodes", "concurrency", "timeout"),
    [
        pytest.param(V1ALPHA2, 6, 1, 1800, id="v2-six-waves"),
        pytest.param(V1ALPHA2, 6, 4, 600, id="v2-two-waves"),
        pytest.param(V1ALPHA2, 3, 4, 300, id="v2-one-wave"),
        pytest.param(V1ALPHA1, 6, 1, 300, id="v1-per-node-timer"),
    ],
)
def test_emitted_timeout_covers_the_waves_on_v1alpha2(api_version: str, nodes: int, concurrency: int,
                                                      timeout: int) -> None:
    line = group("line", ["nginx:1.25"], node_group="line",
                 policy=JobPolicy(concurrency=concurrency, timeout_seconds=300))
    result = plan(fleet(line), nodes_facts(*(line_node(n) for n in NODES[:nodes])), [], [], now=NOW,
                  revision=None, job_api_version=api_version)
    (job,) = result.create
    assert job.manifest()["spec"]["imagePrePullTemplate"]["timeoutSeconds"] == timeout


def _running(api_version: str, created: str, last: str, timeout: int) -> dict[str, Any]:
    if api_version == V1ALPHA2:
        status: dict[str, Any] = {"phase": "InProgress", "nodeStatus": [
            {"nodeName": "n1", "phase": "Successful",
             "actionFlow": [{"action": "Pull", "status": "True", "time": last}],
             "imageStatus": [{"image": NGINX, "status": "True"}]},
            *({"nodeName": n, "phase": "Pending"} for n in NODES[1:])]}
    else:
        status = {"state": "Pulling", "time": last, "status": []}
    return job_object("ef-line-run", [NGINX], list(NODES), created=created, api_version=api_version,
                      concurrency=1, timeout=timeout, status=status)


@pytest.mark.parametrize(
    ("api_version", "created", "last", "timeout", "stuck"),
    [
        # v1alpha2 emits 300 x 6 waves = 1800: deadline 1800 x 2 + 5m = 65m, idle 300 x 2 + 5m = 15m
        pytest.param(V1ALPHA2, T0, "2025-07-01T11:55:00Z", 1800, None, id="v2-progressing"),
        pytest.param(V1ALPHA2, T0, "2025-07-01T11:40:00Z", 1800, "stuck: no node has reported",
                     id="v2-idle-past-one-node-timeout"),
        pytest.param(V1ALPHA2, "2025-07-01T10:50:00Z", "2025-07-01T11:58:00Z", 1800, "stuck: in progress",
                     id="v2-past-the-whole-job-deadline"),
        # v1alpha1 emits 300 (per node): deadline 300 x 6 x 2 + 5m = 65m; it times nodes out itself
        pytest.param(V1ALPHA1, T0, "2025-07-01T11:10:00Z", 300, None, id="v1-no-idle-rule"),
        pytest.param(V1ALPHA1, "2025-07-01T10:50:00Z", "2025-07-01T11:58:00Z", 300, "stuck: in progress",
                     id="v1-past-the-whole-job-deadline"),
    ],
)
def test_stuck_deadline_matches_the_emitted_timeout(api_version: str, created: str, last: str,
                                                    timeout: int, stuck: str | None) -> None:
    result = run([_running(api_version, created, last, timeout)], api_version=api_version)
    reasons = [d.reason for d in result.delete]
    if stuck is None:
        assert reasons == []
    else:
        assert len(reasons) == 1 and reasons[0].startswith(stuck), reasons
