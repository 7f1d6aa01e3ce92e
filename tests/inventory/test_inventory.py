"""Inventory: truncation awareness, status records, idempotent attempt counting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from reconciler.inventory import (
    JobEvidence,
    RetryPolicy,
    evidence_recorded,
    infer_image_cap,
    list_truncated,
    next_status,
)
from reconciler.observed import InventoryFailure, InventoryImage, InventoryStatus, inventory_from_object
from tests.fleet_builders import NOW, node_object, nodes_facts

A, B, C = "docker.io/library/a:1", "docker.io/library/b:1", "docker.io/library/c:1"
T0 = datetime(2025, 7, 1, 11, 0, tzinfo=UTC)


def _nodes(counts: list[int]) -> list[object]:
    return nodes_facts(*(node_object(f"n{i}", images=[[f"img{k}:1"] for k in range(c)])
                         for i, c in enumerate(counts)))


@pytest.mark.parametrize(
    ("counts", "cap"),
    [
        pytest.param([0] * 5, 0, id="nobody-reports-kubeedge-default"),
        pytest.param([10] * 12 + [3, 7], 10, id="many-at-one-length"),
        pytest.param([3, 5, 7, 9, 4, 6], None, id="varied-lists-look-complete"),
        pytest.param([], None, id="no-nodes"),
    ],
)
def test_cap_inference(counts: list[int], cap: int | None) -> None:
    assert infer_image_cap(_nodes(counts)) == cap  # type: ignore[arg-type]


def test_truncation_only_at_the_cap() -> None:
    full, short = nodes_facts(node_object("full", images=[["x:1"], ["y:1"]]),
                              node_object("short", images=[["x:1"]]))
    assert list_truncated(full, 2) and not list_truncated(short, 2)
    assert not list_truncated(full, None) and not list_truncated(full, -1)


def test_next_status_records_pulls_counts_failures_and_prunes() -> None:
    old = InventoryStatus(
        images=(InventoryImage("docker.io/library/old:1", "job/ef-1", "x"),
                InventoryImage("docker.io/library/agent:1", "agent", "y")),
        failures=(InventoryFailure("docker.io/library/gone:1", 3),),
    )
    evidence = [JobEvidence("ef-2", T0, frozenset({A}), {B: "404"}),
                JobEvidence("ef-3", T0 + timedelta(minutes=1), frozenset(), {B: "timeout", C: "x"})]
    new = next_status(old, evidence, desired=frozenset({A, B}), reported=frozenset(), now=NOW,
                      retry=RetryPolicy())
    assert [(i.image, i.source) for i in new.images] == [
        (A, "job/ef-2"), ("docker.io/library/agent:1", "agent")]  # job entry of old:1 pruned
    (failure,) = new.failures  # gone:1 and c (not desired) dropped
    assert (failure.image, failure.attempts, failure.last_job) == (B, 2, "ef-3")
    assert failure.last_error == "timeout"
    assert failure.retry_after == "2025-07-01T12:10:00Z"  # second attempt: 10 minutes
    again = next_status(new, evidence, desired=frozenset({A, B}), reported=frozenset(),
                        now=NOW + timedelta(hours=1), retry=RetryPolicy())
    assert again == new  # the same jobs are never counted twice


@pytest.mark.parametrize(
    ("attempts", "delay"),
    [pytest.param(1, timedelta(minutes=5), id="first"), pytest.param(3, timedelta(minutes=20), id="third"),
     pytest.param(9, timedelta(hours=6), id="capped"), pytest.param(200, timedelta(hours=6), id="huge")],
)
def test_backoff_doubles_to_a_cap(attempts: int, delay: timedelta) -> None:
    assert RetryPolicy().delay(attempts) == delay


def test_evidence_recorded_needs_pulls_and_counted_failures() -> None:
    ev = {"n": JobEvidence("ef-2", T0, frozenset({A}), {B: "404"})}
    desired = {"n": frozenset({A, B})}

    def inv(images: list[str], failures: list[dict[str, object]]) -> dict[str, object]:
        return {"n": inventory_from_object({"metadata": {"name": "n"}, "status": {
            "images": [{"image": i} for i in images], "failures": failures}})}

    counted = [{"image": B, "attempts": 1, "lastJob": "ef-2", "lastAttempt": "2025-07-01T11:00:00Z"}]
    older = [{"image": B, "attempts": 1, "lastJob": "ef-1", "lastAttempt": "2025-07-01T10:00:00Z"}]
    assert evidence_recorded("ef-2", T0, ev, inv([A], counted), desired)  # type: ignore[arg-type]
    assert not evidence_recorded("ef-2", T0, ev, inv([], counted), desired)  # type: ignore[arg-type]
    assert not evidence_recorded("ef-2", T0, ev, inv([A], older), desired)  # type: ignore[arg-type]
    assert evidence_recorded("ef-2", T0, ev, {}, {"n": frozenset()})  # nothing desired any more
