"""Drifting pairs -> DriftReport: the pure aggregation (no I/O, no clock: `now` is a parameter).

Built for a fleet of 100,000 nodes with tens of images each: a million drifting pairs arrive
as one run per node (`PairRuns`, built by drift_facts without one object per pair). A run whose
pairs share group, reason and since (most of them) is counted as a whole: its node once, its
images by one C-level `Counter` per (group, site, reason, since) cell key; only a mixed run is
counted pair by pair. The Python loop of the roll-up runs over the few distinct cells, and only
the listed rows become DriftPair objects. bench/drift.py measures the whole report (plan,
reasons, aggregation) against the plan alone.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from itertools import chain, repeat
from operator import attrgetter
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
from reconciler.drift.runs import NodeRun, PairRuns, column

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
    every = pairs if isinstance(pairs, PairRuns) else PairRuns.of(pairs)
    drifting = every.up_to(cutoff) if settings.min_age_seconds > 0 else every
    counted = _count(drifting, site_of)
    by_group, by_site, by_image, by_reason, per_since = _roll_up(counted.cells)
    thresholds = _thresholds(now)
    histogram: Counter[int] = Counter()
    for since, count in per_since.items():
        histogram[bisect_left(thresholds, since)] += count

    desired = sum(g.pairs_desired for g in groups)
    present = sum(g.pairs_present for g in groups)
    oldest = min((t.oldest for t in by_reason.values() if t.oldest is not None), default=None)
    listed = _oldest(drifting, per_since, settings.max_rows)
    return DriftReport(
        generated_at=now,
        revision=revision,
        site_label=key,
        min_age_seconds=settings.min_age_seconds,
        summary=Summary(
            nodes=len(site_of), nodes_drifting=len(drifting.runs), pairs_desired=desired,
            pairs_present=present, pairs_drifting=len(drifting),
            pairs_settling=len(every) - len(drifting), convergence_percent=convergence(present, desired),
            oldest_since=oldest, pairs_listed=len(listed),
        ),
        aggregates=Aggregates(
            groups=_group_aggregates(groups, by_group, counted.group_nodes, counted.group_failed),
            sites=_worst_first(_plain(by_site, counted.site_nodes, counted.site_failed)),
            images=_worst_first(_image_aggregates(by_image, counted.image_failed)),
            reasons=_worst_first(_reason_aggregates(by_reason, counted.reason_nodes, counted.failed_nodes)),
        ),
        age_histogram=_histogram([histogram[i] for i in range(len(AGE_BOUNDS) + 1)]),
        pairs=[DriftRow(node=p.node, group=p.group, site=site_of.get(p.node, UNLABELLED), image=p.image,
                        reason=p.reason, since=p.since, detail=p.detail) for p in listed],
        trend=trend if trend is not None else Trend(),
    )


Cell = tuple[str, str, str, str, datetime]  # (group, site, image, reason, since)
_FAILED: Final = Reason.FAILED.value


class _Counted:
    """What the runs count: pairs per cell, and distinct nodes per group, site and reason,
    overall and among the nodes with a failed pair (failed pairs per image)."""

    __slots__ = ("cells", "failed_nodes", "group_failed", "group_nodes", "image_failed", "reason_nodes",
                 "site_failed", "site_nodes")

    def __init__(self) -> None:
        self.cells: Counter[Cell] = Counter()
        self.group_nodes: Counter[str] = Counter()
        self.site_nodes: Counter[str] = Counter()
        self.reason_nodes: Counter[str] = Counter()
        self.failed_nodes = 0
        self.group_failed: Counter[str] = Counter()
        self.site_failed: Counter[str] = Counter()
        self.image_failed: Counter[str] = Counter()


def _count(runs: PairRuns, site_of: Mapping[str, str]) -> _Counted:
    """Count `runs`: uniform runs (one group, reason and since) are listed per (group, site,
    reason, since) key and counted per key at the end (their nodes by the list's length, their
    images by one C-level Counter); a mixed run is counted pair by pair."""
    counted = _Counted()
    uniform: defaultdict[tuple[str, str, str, datetime], list[tuple[str, ...]]] = defaultdict(list)
    site = site_of.get
    mixed = []
    for run in runs.runs:
        group, reason, since = run.group, run.reason, run.since
        if isinstance(group, tuple) or isinstance(reason, tuple) or isinstance(since, tuple):
            mixed.append(run)
        else:
            uniform[(group, site(run.node, UNLABELLED), reason._value_, since)].append(run.images)
    cells = counted.cells
    for (owner, at, why, moment), images in uniform.items():
        nodes = len(images)
        counted.group_nodes[owner] += nodes
        counted.site_nodes[at] += nodes
        counted.reason_nodes[why] += nodes
        if why == _FAILED:
            counted.failed_nodes += nodes
            counted.group_failed[owner] += nodes
            counted.site_failed[at] += nodes
            counted.image_failed.update(chain.from_iterable(images))
        for image, count in Counter(chain.from_iterable(images)).items():
            cells[(owner, at, image, why, moment)] += count
    for run in mixed:
        _count_mixed(counted, run, site(run.node, UNLABELLED))
    return counted


def _count_mixed(counted: _Counted, run: NodeRun, at: str) -> None:
    """Count a run whose pairs differ in group, reason or since, pair by pair."""
    n = len(run.images)
    counted.site_nodes[at] += 1
    groups = list(column(run.group, n))
    reasons = list(map(_REASON_VALUE, column(run.reason, n)))
    counted.cells.update(zip(groups, repeat(at, n), run.images, reasons, column(run.since, n),
                             strict=False))  # repeat() is endless
    counted.group_nodes.update(set(groups))
    counted.reason_nodes.update(set(reasons))
    if _FAILED in reasons:
        counted.failed_nodes += 1
        counted.site_failed[at] += 1
        counted.group_failed.update({g for g, r in zip(groups, reasons, strict=True) if r == _FAILED})
        counted.image_failed.update(i for i, r in zip(run.images, reasons, strict=True) if r == _FAILED)


def _roll_up(cells: Counter[Cell]) -> tuple[dict[str, _Tally], dict[str, _Tally], dict[str, _Tally],
                                            dict[str, _Tally], Counter[datetime]]:
    """Pairs, reasons and the oldest `since` per group, site, image and reason (the per-reason
    tallies keep no breakdown), and the pairs per `since`.

    A fleet's pairs share few distinct (group, site, image, reason, since) cells (few groups,
    sites, images and reasons, and one `since` per report that saw pairs go missing), so the
    Python loop runs over the cells, not over every pair.
    """
    by_group: dict[str, _Tally] = {}
    by_site: dict[str, _Tally] = {}
    by_image: dict[str, _Tally] = {}
    by_reason: dict[str, _Tally] = {}
    per_since: Counter[datetime] = Counter()
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


def _oldest(runs: PairRuns, per_since: Mapping[datetime, int], limit: int) -> list[DriftPair]:
    """The `limit` oldest pairs, ordered by (since, node, image).

    The cut-off time comes from the pairs per since; every pair older than it is listed, and of
    the pairs at it the first in (node, image) order, read off the runs (ordered by node, images
    sorted) until the listing is full. Only the listed pairs become DriftPair objects.
    """
    if limit <= 0 or not runs:
        return []
    older, cut = 0, max(per_since)
    for moment in sorted(per_since):
        if older + per_since[moment] >= limit:
            cut = moment
            break
        older += per_since[moment]
    room = limit - older
    rows: list[tuple[datetime, str, str, int, int]] = []
    for number, run in enumerate(runs.runs):
        since = run.since
        if not isinstance(since, tuple):
            if since < cut or (since == cut and room > 0):
                taken = run.images if since < cut else run.images[:room]
                rows.extend(zip(repeat(since), repeat(run.node), taken, repeat(number), range(len(taken))))
                room -= len(taken) if since == cut else 0
            continue
        for index, moment in enumerate(since):
            if moment < cut or (moment == cut and room > 0):
                rows.append((moment, run.node, run.images[index], number, index))
                room -= moment == cut
    rows.sort()
    return [runs.runs[number].pair(index) for _, _, _, number, index in rows]


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
