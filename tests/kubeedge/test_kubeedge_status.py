"""Status readers of both KubeEdge dialects, one fixture file per job state."""

from __future__ import annotations

import pytest

from reconciler.kubeedge import read_job
from reconciler.kubeedge.status import SILENT_SUCCESS
from tests.fleet_builders import job_fixture

APP = "registry.example.com/app:1.2.3"
SIDE = "registry.example.com/sidecar:4.5"
BOTH = frozenset({APP, SIDE})
SECRET_MISSING = 'get secret pull-cred failed, secrets "pull-cred" not found'
CHECK_FAILED = "check disk failed: not enough space"


@pytest.mark.parametrize(
    ("fixture", "dialect", "phase", "pulled", "failed", "silent"),
    [
        pytest.param("v1alpha2-completed.yaml", "v1alpha2", "succeeded",
                     {"edge-a": BOTH, "edge-b": BOTH}, {}, (), id="v1alpha2-completed"),
        # edge-b was refused at initialization (NotReady): never asked, so no attempt.
        pytest.param("v1alpha2-partial-offline.yaml", "v1alpha2", "succeeded",
                     {"edge-a": BOTH}, {}, (), id="v1alpha2-partial-offline"),
        pytest.param("v1alpha2-unknown-timeout.yaml", "v1alpha2", "failed",
                     {"edge-b": BOTH},
                     {"edge-a": {APP: "The node task has timed out", SIDE: "The node task has timed out"}},
                     (), id="v1alpha2-unknown-timeout"),
        pytest.param("v1alpha2-pull-failed.yaml", "v1alpha2", "succeeded",
                     {"edge-a": BOTH, "edge-b": frozenset({APP})},
                     {"edge-b": {SIDE: "rpc error: code = NotFound desc = manifest unknown"}},
                     (), id="v1alpha2-pull-failed"),
        # The real reasons sit in the failed actionFlow items: they are the evidence, not a
        # generic "node ended in phase Failure" (#16 item 1).
        pytest.param("v1alpha2-secret-missing.yaml", "v1alpha2", "failed", {},
                     {"edge-a": {APP: SECRET_MISSING, SIDE: SECRET_MISSING},
                      "edge-b": {APP: CHECK_FAILED, SIDE: CHECK_FAILED}},
                     (), id="v1alpha2-secret-missing"),
        pytest.param("v1alpha2-in-progress.yaml", "v1alpha2", "running",
                     {"edge-a": BOTH}, {}, ("edge-b",), id="v1alpha2-in-progress"),
        # The job failed at initialization: no node was ever dispatched, none made an attempt.
        pytest.param("v1alpha2-init-failure.yaml", "v1alpha2", "failed", {}, {},
                     (), id="v1alpha2-init-failure"),
        pytest.param("v1alpha2-uninitialized.yaml", "none", "pending", {}, {},
                     ("edge-a", "edge-b"), id="uninitialized"),
        pytest.param("v1alpha1-successful.yaml", "v1alpha1", "succeeded",
                     {"edge-a": BOTH, "edge-b": BOTH}, {}, (), id="v1alpha1-successful"),
        pytest.param("v1alpha1-silent-success.yaml", "v1alpha1", "succeeded",
                     {"edge-b": frozenset({APP})},
                     {"edge-a": {APP: SILENT_SUCCESS, SIDE: SILENT_SUCCESS},
                      "edge-b": {SIDE: SILENT_SUCCESS}},
                     (), id="v1alpha1-silent-success"),
        pytest.param("v1alpha1-failed-timeout.yaml", "v1alpha1", "failed",
                     {"edge-a": frozenset({APP})},
                     {"edge-a": {SIDE: "rpc error: code = Unknown desc = unauthorized"},
                      "edge-b": {APP: "timeout", SIDE: "timeout"}},
                     (), id="v1alpha1-failed-timeout"),
        pytest.param("v1alpha1-pulling.yaml", "v1alpha1", "running",
                     {"edge-a": BOTH}, {}, ("edge-b",), id="v1alpha1-pulling"),
    ],
)
def test_status_reading(
    fixture: str,
    dialect: str,
    phase: str,
    pulled: dict[str, frozenset[str]],
    failed: dict[str, dict[str, str]],
    silent: tuple[str, ...],
) -> None:
    reading = read_job(job_fixture(fixture))
    assert reading.dialect == dialect
    assert reading.phase == phase
    assert reading.finished == (phase in ("succeeded", "failed"))
    assert reading.nodes == ("edge-a", "edge-b")
    assert {n: e.pulled for n, e in reading.evidence.items() if e.pulled} == pulled
    assert {n: dict(e.failed) for n, e in reading.evidence.items() if e.failed} == failed
    assert reading.silent_nodes == silent


def test_node_missing_from_a_finished_job_made_no_attempt() -> None:
    job = job_fixture("v1alpha2-completed.yaml")
    status = job.status
    trimmed = type(status)(phase=status.phase, node_status=status.node_status[:1])
    reading = read_job(type(job)(api_version=job.api_version, metadata=job.metadata, spec=job.spec,
                                 status=trimmed))
    evidence = reading.evidence["edge-b"]
    assert evidence.finished and not evidence.dispatched
    assert dict(evidence.failed) == {} and evidence.pulled == frozenset()


def test_last_report_is_the_newest_status_time() -> None:
    reading = read_job(job_fixture("v1alpha2-completed.yaml"))
    assert reading.last_report is not None
    assert reading.last_report.isoformat() == "2025-07-01T08:02:30+00:00"
