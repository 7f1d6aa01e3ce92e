"""Drifting pairs -> DriftReport: the pure aggregation (no I/O, no clock: `now` is a parameter).

Built for a fleet of 100,000 nodes with tens of images each: a million drifting pairs arrive
as columns (`PairColumns`, built by drift_facts without one object per pair), are counted by
one C-level `Counter` over (group, site, image, reason, since) cells, and the Python loop runs
over the few distinct cells only. Distinct-node counts come from sets of (key, node); the
listed rows from heaps over tuples compared in C, and only they become DriftPair objects.
bench/drift.py measures the whole report (plan, reasons, aggregation) against the plan alone.
"""

from __future__ import annotations

import heapq
import math
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from itertools import compress, repeat
from operator import attrgetter, itemgetter
from typing import Final, Protocol

from reconciler.drift.columns import PairColumns
from reconciler.drift.reasons import Reason
from reconciler.drift.report import (
    UNLABELLED,
    AgeBucket,
    Aggregate,
    Aggregates,
    DriftPair,
    DriftReport,
    DriftRow,
    DriftSettings,
    GroupTotals,
    Summary,
    Trend,
)

#: Upper bounds of the age histogram's buckets; the last bucket has none.
AGE_BOUNDS: Final = (
    ("< 1h", timedelta(hours=1)),
    ("1h-6h", timedelta(hours=6)),
    ("6h-1d", timedelta(days=1)),
    ("1d-3d", timedelta(days=3)),
    ("3d-7d", timedelta(days=7)),
    ("7d-30d", timedelta(days=30)),
)
OLDEST_BUCKET: Final = ">= 30d"

_REASON_VALUE = attrgetter("_value_")
_FIRST = itemgetter(0)


class LabelledNode(Protocol):
    """A node as the report needs it (reconciler.observed.nodes.NodeFacts is one)."""

    @property
    def name(self) -> str: ...

    @property
    def labels(self) -> Mapping[str, str]: ...


class _Tally:
    """Mutable accumulator of one aggregate while cells are rolled up."""

    __slots__ = ("oldest", "pairs", "reasons")

    def __init__(self) -> None:
        self.pairs = 0
        self.oldest: datetime | None = None
        self.reasons: Counter[str] = Counter()


def convergence(present: int, desired: int) -> float:
    """present / desired in percent, rounded down to 2 decimals (99.999 % is not 100 %);
    100 when nothing is desired."""
    if desired <= 0:
        return 100.0
    return math.floor(present * 10_000 / desired) / 100


def build_report(
    pairs: Sequence[DriftPair],
    *,
    nodes: Iterable[LabelledNode],
    groups: Sequence[GroupTotals],
    revision: str | None,
    now: datetime,
    settings: DriftSettings = DriftSettings(),
    trend: Trend | None = None,
) -> DriftReport:
    """The DriftReport of `pairs` at `now`.

    Reads: `pairs` (one per desired pair that is not present; at most one per (node, image)),
    `nodes` (every node of the fleet: the node count and each node's site, the value of the
    label `settings.site_label`), `groups` (desired and present pairs per group, from the
    plan). Pairs missing for less than `settings.min_age_seconds` are counted as settling,
    not drifting. Lists the `settings.max_rows` oldest drifting pairs. Pure; never raises for
    a pair whose node is not in `nodes` (its site is "(unlabelled)").
    """
    key = settings.site_label
    site_of = {node.name: node.labels.get(key, UNLABELLED) for node in nodes}
    cutoff = now - timedelta(seconds=settings.min_age_seconds)
    drifting = pairs if isinstance(pairs, PairColumns) else PairColumns.of(pairs)
    if settings.min_age_seconds > 0 and drifting and max(drifting.since) > cutoff:
        drifting = drifting.select(map(cutoff.__ge__, drifting.since))
    columns = _Columns(drifting, site_of)
    by_group, by_site, by_image, by_reason, per_since = _roll_up(columns)
    thresholds = _thresholds(now)
    histogram: Counter[int] = Counter()
    for since, count in per_since.items():
        histogram[bisect_left(thresholds, since)] += count

    drifting_nodes = set(columns.nodes)
    failed = drifting.select(map(Reason.FAILED.value.__eq__, columns.reasons))
    failed_nodes = set(failed.nodes)
    group_nodes = Counter(map(_FIRST, set(zip(columns.groups, columns.nodes, strict=True))))
    group_failed = Counter(map(_FIRST, set(zip(failed.groups, failed.nodes, strict=True))))
    reason_nodes = Counter(map(_FIRST, set(zip(columns.reasons, columns.nodes, strict=True))))
    site_nodes = Counter(site_of.get(node, UNLABELLED) for node in drifting_nodes)
    site_failed = Counter(site_of.get(node, UNLABELLED) for node in failed_nodes)
    image_failed = Counter(failed.images)

    desired = sum(g.pairs_desired for g in groups)
    present = sum(g.pairs_present for g in groups)
    oldest = min((t.oldest for t in by_reason.values() if t.oldest is not None), default=None)
    listed = _oldest(drifting, columns.since, settings.max_rows)
    return DriftReport(
        generated_at=now,
        revision=revision,
        site_label=key,
        min_age_seconds=settings.min_age_seconds,
        summary=Summary(
            nodes=len(site_of), nodes_drifting=len(drifting_nodes), pairs_desired=desired,
            pairs_present=present, pairs_drifting=len(drifting),
            pairs_settling=len(pairs) - len(drifting), convergence_percent=convergence(present, desired),
            oldest_since=oldest, pairs_listed=len(listed),
        ),
        aggregates=Aggregates(
            groups=_group_aggregates(groups, by_group, group_nodes, group_failed),
            sites=_worst_first(_plain(by_site, site_nodes, site_failed)),
            images=_worst_first(_image_aggregates(by_image, image_failed)),
            reasons=_worst_first(_reason_aggregates(by_reason, reason_nodes, len(failed_nodes))),
        ),
        age_histogram=_histogram([histogram[i] for i in range(len(AGE_BOUNDS) + 1)]),
        pairs=[DriftRow(node=p.node, group=p.group, site=site_of.get(p.node, UNLABELLED), image=p.image,
                        reason=p.reason, since=p.since, detail=p.detail) for p in listed],
        trend=trend if trend is not None else Trend(),
    )


class _Columns:
    """The drifting pairs as columns, each extracted by a C-level map (no Python loop)."""

    __slots__ = ("groups", "images", "nodes", "reasons", "since", "sites")

    def __init__(self, pairs: PairColumns, site_of: Mapping[str, str]) -> None:
        self.nodes, self.groups, self.images = pairs.nodes, pairs.groups, pairs.images
        self.since = pairs.since
        # The plain string behind each Reason: an Enum member hashes in Python, a str in C.
        self.reasons: list[str] = list(map(_REASON_VALUE, pairs.reasons))
        self.sites: list[str] = list(map(site_of.get, self.nodes, repeat(UNLABELLED, len(self.nodes))))


Cell = tuple[str, str, str, str, datetime]  # (group, site, image, reason, since)


def _roll_up(columns: _Columns) -> tuple[dict[str, _Tally], dict[str, _Tally], dict[str, _Tally],
                                         dict[str, _Tally], Counter[datetime]]:
    """Pairs, reasons and the oldest `since` per group, site, image and reason (the per-reason
    tallies keep no breakdown), and the pairs per `since`.

    One C-level Counter over (group, site, image, reason, since) cells: a fleet's pairs share few
    distinct cells (few groups, sites, images and reasons, and one `since` per report that saw
    pairs go missing), so the Python loop runs over the cells, not over every pair.
    """
    by_group: dict[str, _Tally] = {}
    by_site: dict[str, _Tally] = {}
    by_image: dict[str, _Tally] = {}
    by_reason: dict[str, _Tally] = {}
    per_since: Counter[datetime] = Counter()
    cells: Counter[Cell] = Counter(zip(columns.groups, columns.sites, columns.images, columns.reasons,
                                       columns.since, strict=True))
    for (group, site, image, reason, since), count in cells.items():
        per_since[since] += count
        for tallies, key in ((by_group, group), (by_site, site), (by_image, image), (by_reason, reason)):
            tally = tallies.get(key)
            if tally is None:
                tally = tallies[key] = _Tally()
            tally.pairs += count
            if tallies is not by_reason:
                tally.reasons[reason] += count
            if tally.oldest is None or since < tally.oldest:
                tally.oldest = since
    return by_group, by_site, by_image, by_reason, per_since


def _oldest(pairs: PairColumns, since: list[datetime], limit: int) -> list[DriftPair]:
    """The `limit` oldest pairs, ordered by (since, node, image).

    The cut-off time comes from a heap over bare datetimes (C comparisons only); the pairs at
    or before it are ordered as (since, node, image, index) tuples, compared in C, and only the
    listed ones become DriftPair objects.
    """
    if limit <= 0 or not pairs:
        return []
    cut = heapq.nsmallest(limit, since)[-1]
    rows = zip(since, pairs.nodes, pairs.images, range(len(since)), strict=True)
    candidates = list(compress(rows, map(cut.__ge__, since)))
    if len(candidates) > 4 * limit:  # many pairs share the cut-off time: no full sort of them
        chosen = heapq.nsmallest(limit, candidates)
    else:
        candidates.sort()
        chosen = candidates[:limit]
    return [pairs[row[3]] for row in chosen]


def _thresholds(now: datetime) -> list[datetime]:
    """Ascending: a `since` before the first threshold is in the oldest bucket (index 0)."""
    return [now - bound for _, bound in reversed(AGE_BOUNDS)]


def _histogram(counts: list[int]) -> list[AgeBucket]:
    """Youngest bucket first. counts[0] is the oldest bucket (see `_cells`)."""
    labels = [OLDEST_BUCKET, *(label for label, _ in reversed(AGE_BOUNDS))]
    bounds: list[int | None] = [None, *(int(b.total_seconds()) for _, b in reversed(AGE_BOUNDS))]
    buckets = [AgeBucket(label=label, up_to_seconds=bound, pairs=count)
               for label, bound, count in zip(labels, bounds, counts, strict=True)]
    return buckets[::-1]


def _sort_key(a: Aggregate) -> tuple[bool, datetime | None, int, int, str]:
    return (a.oldest_since is None, a.oldest_since, -a.failed_nodes, -a.pairs, a.key)


def _worst_first(aggregates: list[Aggregate]) -> list[Aggregate]:
    """Oldest drift first, then most failed nodes, then most pairs, then by key (total order).
    Aggregates without drift (groups only) come last."""
    return sorted(aggregates, key=_sort_key)


def _reasons(tally: _Tally) -> dict[str, int]:
    return dict(sorted(tally.reasons.items()))


def _plain(tallies: Mapping[str, _Tally], nodes: Counter[str], failed: Counter[str]) -> list[Aggregate]:
    return [Aggregate(key=name, pairs=t.pairs, nodes=nodes[name], failed_nodes=failed[name],
                      oldest_since=t.oldest, reasons=_reasons(t)) for name, t in tallies.items()]


def _image_aggregates(tallies: Mapping[str, _Tally], failed: Counter[str]) -> list[Aggregate]:
    # One pair per (node, image): an image's drifting nodes are its drifting pairs.
    return [Aggregate(key=name, pairs=t.pairs, nodes=t.pairs, failed_nodes=failed[name],
                      oldest_since=t.oldest, reasons=_reasons(t)) for name, t in tallies.items()]


def _reason_aggregates(tallies: Mapping[str, _Tally], nodes: Counter[str],
                       failed_nodes: int) -> list[Aggregate]:
    return [Aggregate(key=name, pairs=t.pairs, nodes=nodes[name],
                      failed_nodes=failed_nodes if name == Reason.FAILED else 0, oldest_since=t.oldest)
            for name, t in tallies.items()]


def _group_aggregates(groups: Sequence[GroupTotals], tallies: Mapping[str, _Tally],
                      nodes: Counter[str], failed: Counter[str]) -> list[Aggregate]:
    """Every group of the plan (drifting or not) plus any group only the pairs name."""
    totals = {g.group: g for g in groups}
    result = []
    for name in sorted(totals.keys() | tallies.keys()):
        tally, total = tallies.get(name), totals.get(name)
        result.append(Aggregate(
            key=name, pairs=tally.pairs if tally else 0, nodes=nodes[name], failed_nodes=failed[name],
            oldest_since=tally.oldest if tally else None, reasons=_reasons(tally) if tally else {},
            pairs_desired=total.pairs_desired if total else None,
            pairs_present=total.pairs_present if total else None,
            convergence_percent=convergence(total.pairs_present, total.pairs_desired) if total else None,
            suspended=total.suspended if total else False,
        ))
    return _worst_first(result)
