"""Builders for drift tests: nodes with site labels, drifting pairs, a manual clock."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from reconciler.drift.aggregate import build_report
from reconciler.drift.reasons import Reason
from reconciler.drift.report import DriftPair, DriftReport, DriftSettings, GroupTotals, PairDetail, Trend

REPO_ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 12, 2, 7, 0, tzinfo=UTC)
ZONE = "topology.kubernetes.io/zone"


@dataclass(frozen=True)
class Node:
    """Satisfies reconciler.drift.aggregate.LabelledNode, as observed NodeFacts do."""

    name: str
    labels: Mapping[str, str] = field(default_factory=dict)


def nodes(count: int, sites: int = 3) -> list[Node]:
    """edge-000 ... with zone-<i % sites> labels."""
    return [Node(f"edge-{i:03d}", {ZONE: f"zone-{i % sites}"}) for i in range(count)]


def pair(node: str, image: str, reason: Reason = Reason.NOT_YET_PLANNED, *, group: str = "shops",
         age: timedelta = timedelta(hours=2), detail: PairDetail | None = None) -> DriftPair:
    """A pair missing for `age` before NOW."""
    return DriftPair(node, group, image, reason, NOW - age, detail)


def report(pairs: list[DriftPair], *, fleet: list[Node] | None = None,
           groups: list[GroupTotals] | None = None, now: datetime = NOW, revision: str | None = "a" * 40,
           settings: DriftSettings | None = None, trend: Trend | None = None) -> DriftReport:
    """build_report with defaults: 10 nodes, one group "shops" of 100 desired pairs."""
    present = 100 - len(pairs)
    return build_report(
        pairs, nodes=fleet if fleet is not None else nodes(10),
        groups=groups if groups is not None else [GroupTotals("shops", 100, present)],
        revision=revision, now=now, settings=settings or DriftSettings(), trend=trend)
