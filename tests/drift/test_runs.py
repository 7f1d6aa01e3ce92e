"""Node runs (PairRuns) and the per-node missingSince memory (MissingSince): the forms drift_facts
hands to build_report and to the history, read back as the pairs they were made of."""

from __future__ import annotations

from datetime import timedelta

import pytest

from reconciler.drift.memory import MissingSince, NodeMemory, since_of
from reconciler.drift.reasons import Reason
from reconciler.drift.report import PairDetail
from reconciler.drift.runs import NodeRun, PairRuns

from .conftest import NOW, pair

HOUR = timedelta(hours=1)


def test_runs_read_back_as_the_pairs_they_were_made_of_in_node_image_order() -> None:
    pairs = [pair("edge-001", "nginx:1", Reason.DEFERRED_OFFLINE, group="lines"),
             pair("edge-000", "redis:7", Reason.IN_FLIGHT, age=timedelta(days=2)),
             pair("edge-000", "nginx:1", Reason.FAILED, detail=PairDetail(attempt=5, attempt_limit=5))]
    runs = PairRuns.of(pairs)
    ordered = [pairs[2], pairs[1], pairs[0]]
    assert [run.node for run in runs.runs] == ["edge-000", "edge-001"]
    assert len(runs) == 3 and list(runs) == ordered
    assert runs[1] == ordered[1] and runs[-1] == ordered[-1]
    assert list(runs[1:]) == ordered[1:]
    with pytest.raises(IndexError):
        runs[3]
    assert list(PairRuns.of([])) == [] and len(PairRuns([])) == 0


def test_a_run_keeps_one_value_when_its_pairs_agree_and_one_per_image_when_not() -> None:
    same = PairRuns.of([pair("edge-000", "a:1"), pair("edge-000", "b:1")]).runs[0]
    assert (same.group, same.reason, same.since, same.details) == ("shops", Reason.NOT_YET_PLANNED,
                                                                   NOW - 2 * HOUR, None)
    mixed = PairRuns.of([pair("edge-000", "a:1", age=HOUR), pair("edge-000", "b:1", group="lines")]).runs[0]
    assert mixed.group == ("shops", "lines") and mixed.since == (NOW - HOUR, NOW - 2 * HOUR)


def test_up_to_keeps_the_pairs_missing_since_the_cutoff_or_before() -> None:
    pairs = [pair("edge-000", "a:1", age=3 * HOUR), pair("edge-000", "b:1", age=HOUR / 2),
             pair("edge-001", "a:1", age=HOUR / 2), pair("edge-002", "a:1", age=5 * HOUR)]
    runs = PairRuns.of(pairs)
    kept = runs.up_to(NOW - HOUR)
    assert list(kept) == [pairs[0], pairs[3]]
    assert kept.runs[0].since == NOW - 3 * HOUR  # one since left: one value again
    assert runs.up_to(NOW) is runs


def test_the_memory_reads_as_a_pair_mapping_and_round_trips() -> None:
    pairs = {("edge-000", "a:1"): NOW - HOUR, ("edge-000", "b:1"): NOW, ("edge-001", "a:1"): NOW}
    memory = MissingSince.of(pairs)
    assert memory == pairs and len(memory) == 3 and set(memory) == set(pairs)
    assert memory[("edge-000", "a:1")] == NOW - HOUR
    assert ("edge-001", "b:1") not in memory and ("edge-009", "a:1") not in memory
    assert list(memory.rows()) == [("edge-000", "a:1", NOW - HOUR), ("edge-000", "b:1", NOW),
                                   ("edge-001", "a:1", NOW)]
    assert MissingSince.of(memory.rows()) == pairs
    assert MissingSince.of(memory) is memory


def test_since_keeps_remembered_pairs_and_starts_new_ones_now() -> None:
    earlier = NOW - 5 * HOUR
    one = NodeMemory(("a:1", "b:1"), earlier)
    assert since_of(one, ("a:1", "b:1"), NOW) == earlier  # nothing changed
    assert since_of(one, ("a:1",), NOW) == earlier  # b:1 recovered
    assert since_of(one, ("c:1",), NOW) == NOW  # only new pairs
    assert since_of(one, ("a:1", "c:1"), NOW) == (earlier, NOW)
    each = NodeMemory(("a:1", "b:1"), (earlier, NOW - HOUR))
    assert since_of(each, ("a:1", "b:1"), NOW) == (earlier, NOW - HOUR)
    assert since_of(each, ("b:1", "c:1"), NOW) == (NOW - HOUR, NOW)
    assert since_of(each, ("a:1",), NOW) == earlier


def test_a_run_of_one_node_yields_its_pairs_with_their_details() -> None:
    detail = PairDetail(attempt=2, attempt_limit=5)
    run = NodeRun("edge-000", ("a:1", "b:1"), "shops", (Reason.BACKING_OFF, Reason.IN_FLIGHT), NOW,
                  (detail, None))
    assert [(p.image, p.reason, p.detail) for p in run.pairs()] == [
        ("a:1", Reason.BACKING_OFF, detail), ("b:1", Reason.IN_FLIGHT, None)]
    assert run.pair(0) == next(run.pairs())
