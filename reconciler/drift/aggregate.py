"""Drifting pairs -> DriftReport: the pure aggregation (no I/O, no clock: `now` is a parameter).

Built for a fleet of 100,000 nodes with tens of images each: a million drifting pairs are
turned into columns by C-level maps, counted with `Counter` over (key, reason) pairs, and only
the oldest-per-key scan is a Python loop. Distinct-node counts come from sets of (key, node);
the listed rows from a heap over bare datetimes. bench/drift.py measures the whole report
(plan, reasons, aggregation) against the plan alone.
"""

from __future__ import annotations

import heapq
import math
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from functools import partial
from itertools import compress, repeat
from operator import attrgetter, itemgetter
from typing import Final, Protocol

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

_ROW_ORDER = attrgetter("since", "node", "image")
_NODE, _GROUP, _IMAGE, _SINCE = (attrgetter(name) for name in ("node", "group", "image", "since"))
_REASON_VALUE = attrgetter("reason._value_")
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
    drifting: Sequence[DriftPair] = pairs
    if settings.min_age_seconds > 0 and pairs:
        since_all = list(map(_SINCE, pairs))
        if max(since_all) > cutoff:
            drifting = list(compress(pairs, map(cutoff.__ge__, since_all)))
    columns = _Columns(drifting, site_of)
    by_group, by_site, by_image = (
        _tallies(column, columns) for column in (columns.groups, columns.sites, columns.images))
    by_reason = _tallies(columns.reasons, columns, per_reason=True)
    histogram = Counter(map(partial(bisect_left, _thresholds(now)), columns.since))

    drifting_nodes = set(columns.nodes)
    failed = list(compress(drifting, map(Reason.FAILED.value.__eq__, columns.reasons)))
    failed_nodes = {p.node for p in failed}
    group_nodes = Counter(map(_FIRST, set(zip(columns.groups, columns.nodes, strict=True))))
    group_failed = Counter(map(_FIRST, {(p.group, p.node) for p in failed}))
    reason_nodes = Counter(map(_FIRST, set(zip(columns.reasons, columns.nodes, strict=True))))
    site_nodes = Counter(site_of.get(node, UNLABELLED) for node in drifting_nodes)
    site_failed = Counter(site_of.get(node, UNLABELLED) for node in failed_nodes)
    image_failed = Counter(p.image for p in failed)

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

    def __init__(self, pairs: Sequence[DriftPair], site_of: Mapping[str, str]) -> None:
        self.nodes: list[str] = list(map(_NODE, pairs))
        self.groups: list[str] = list(map(_GROUP, pairs))
        self.images: list[str] = list(map(_IMAGE, pairs))
        # The plain string behind each Reason: an Enum member hashes in Python, a str in C.
        self.reasons: list[str] = list(map(_REASON_VALUE, pairs))
        self.since: list[datetime] = list(map(_SINCE, pairs))
        self.sites: list[str] = list(map(site_of.get, self.nodes, repeat(UNLABELLED, len(self.nodes))))


def _tallies(keys: list[str], columns: _Columns, *, per_reason: bool = False) -> dict[str, _Tally]:
    """Pairs, reasons and the oldest `since` per key of one column (`per_reason`: the keys are
    the reasons, so no breakdown is kept).

    One C-level Counter over (key, reason, since): a fleet's pairs share few distinct `since`
    values (one per report that saw them go missing), so the Python loop runs over the few
    distinct triples, not over every pair.
    """
    tallies: dict[str, _Tally] = {}
    triples = Counter(zip(keys, columns.reasons, columns.since, strict=True))
    for (key, reason, since), count in triples.items():
        tally = tallies.get(key)
        if tally is None:
            tally = tallies[key] = _Tally()
        tally.pairs += count
        if not per_reason:
            tally.reasons[reason] += count
        if tally.oldest is None or since < tally.oldest:
            tally.oldest = since
    return tallies


def _oldest(pairs: Sequence[DriftPair], since: list[datetime], limit: int) -> list[DriftPair]:
    """The `limit` oldest pairs, ordered by (since, node, image).

    The cut-off time comes from a heap over bare datetimes (C comparisons only); the few pairs
    at or before it are then sorted with the full key.
    """
    if limit <= 0 or not pairs:
        return []
    cut = heapq.nsmallest(limit, since)[-1]
    candidates = list(compress(pairs, map(cut.__ge__, since)))
    if len(candidates) > 4 * limit:  # many pairs share the cut-off time: no full sort of them
        return heapq.nsmallest(limit, candidates, key=_ROW_ORDER)
    candidates.sort(key=_ROW_ORDER)
    return candidates[:limit]


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
