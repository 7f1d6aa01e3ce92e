"""PairColumns: the pairs drift_facts hands to build_report, stored column-wise."""

from __future__ import annotations

from datetime import timedelta

from reconciler.drift.columns import PairColumns
from reconciler.drift.reasons import Reason
from reconciler.drift.report import PairDetail

from .conftest import pair


def test_columns_read_back_as_the_pairs_they_were_made_of() -> None:
    pairs = [pair("edge-000", "nginx:1", Reason.FAILED, detail=PairDetail(attempt=5, attempt_limit=5)),
             pair("edge-000", "redis:7", Reason.IN_FLIGHT, age=timedelta(days=2)),
             pair("edge-001", "nginx:1", Reason.DEFERRED_OFFLINE, group="lines")]
    table = PairColumns.of(pairs)
    assert len(table) == 3
    assert list(table) == pairs
    assert table[1] == pairs[1] and table[-1] == pairs[-1]
    assert list(table[1:]) == pairs[1:]
    assert list(table.select([True, False, True])) == [pairs[0], pairs[2]]
    assert list(PairColumns.of([])) == []


def test_append_adds_one_pair_at_the_end() -> None:
    table = PairColumns()
    first = pair("edge-002", "nginx:1")
    table.append(first.node, first.group, first.image, first.reason, first.since)
    assert list(table) == [first]
