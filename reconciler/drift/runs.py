"""Drifting pairs as node runs: the form `drift_facts` builds and `build_report` reads.

A fleet of 100,000 nodes has a million drifting pairs, and the report lists at most a thousand
of them. Most of a node's missing pairs share one group, one reason and one missingSince (the
report that saw them go missing), so they are kept as one `NodeRun` per node: the sorted missing
images, and each of group, reason and since either as one value for the whole run or as a tuple
with one value per image. Counting then works per run, not per pair, and a `DriftPair` is made
only for a pair that is read by index or iteration (the listed rows, tests).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from itertools import accumulate, repeat
from operator import attrgetter
from typing import TypeVar, overload

import msgspec

from reconciler.drift.reasons import Reason
from reconciler.drift.report import DriftPair, PairDetail

T = TypeVar("T")
_BY_PAIR = attrgetter("node", "image")
_IMAGES = attrgetter("images")


def column(value: T | tuple[T, ...], count: int) -> Iterable[T]:
    """The per-image values of a run field: the tuple itself, or its one value `count` times."""
    return value if isinstance(value, tuple) else repeat(value, count)


def one_or_each(values: Sequence[T]) -> T | tuple[T, ...]:
    """The run field of `values` (not empty): their one value when all are equal, else a tuple."""
    first = values[0]
    return first if values.count(first) == len(values) else tuple(values)


class NodeRun(msgspec.Struct, frozen=True, gc=False):
    """The drifting pairs of one node, images sorted. `group`, `reason` and `since` hold one
    value for every image or a tuple of one value per image; `details` is None when no pair has
    one. Untracked by the garbage collector: a fleet has a hundred thousand of these."""

    node: str
    images: tuple[str, ...]
    group: str | tuple[str, ...]
    reason: Reason | tuple[Reason, ...]
    since: datetime | tuple[datetime, ...]
    details: tuple[PairDetail | None, ...] | None = None

    def pair(self, index: int) -> DriftPair:
        """The pair of image `index`."""
        return DriftPair(
            self.node, _at(self.group, index), self.images[index], _at(self.reason, index),
            _at(self.since, index), self.details[index] if self.details is not None else None)

    def pairs(self) -> Iterator[DriftPair]:
        """Every pair of the run, in image order."""
        n = len(self.images)
        return map(DriftPair, repeat(self.node, n), column(self.group, n), self.images,
                   column(self.reason, n), column(self.since, n),
                   self.details if self.details is not None else repeat(None, n))

    def up_to(self, cutoff: datetime) -> NodeRun | None:
        """The run of the pairs missing since `cutoff` or before (None: no such pair)."""
        since = self.since
        if not isinstance(since, tuple):
            return self if since <= cutoff else None
        keep = [i for i, moment in enumerate(since) if moment <= cutoff]
        if len(keep) == len(since):
            return self
        if not keep:
            return None
        return NodeRun(self.node, tuple(self.images[i] for i in keep), _pick(self.group, keep),
                       _pick(self.reason, keep), _pick(since, keep),
                       tuple(self.details[i] for i in keep) if self.details is not None else None)


def _at(value: T | tuple[T, ...], index: int) -> T:
    return value[index] if isinstance(value, tuple) else value


def _pick(value: T | tuple[T, ...], keep: list[int]) -> T | tuple[T, ...]:
    return one_or_each([value[i] for i in keep]) if isinstance(value, tuple) else value


def run_of(pairs: Sequence[DriftPair]) -> NodeRun:
    """The run of one node's pairs (not empty, sorted by image)."""
    details = [p.detail for p in pairs]
    return NodeRun(pairs[0].node, tuple(p.image for p in pairs), one_or_each([p.group for p in pairs]),
                   one_or_each([p.reason for p in pairs]), one_or_each([p.since for p in pairs]),
                   tuple(details) if any(d is not None for d in details) else None)


class PairRuns(Sequence[DriftPair]):
    """A sequence of DriftPair stored as runs, one per node, ordered by node: the pairs read in
    (node, image) order."""

    __slots__ = ("_ends", "runs", "size")

    def __init__(self, runs: list[NodeRun]) -> None:
        """`runs`: at most one per node, ordered by node."""
        self.runs = runs
        self.size = sum(map(len, map(_IMAGES, runs)))
        self._ends: list[int] | None = None

    @classmethod
    def of(cls, pairs: Iterable[DriftPair]) -> PairRuns:
        """The runs of `pairs` (at most one per (node, image), in any order)."""
        ordered = sorted(pairs, key=_BY_PAIR)
        runs: list[NodeRun] = []
        start = 0
        for end in range(1, len(ordered) + 1):
            if end == len(ordered) or ordered[end].node != ordered[start].node:
                runs.append(run_of(ordered[start:end]))
                start = end
        return cls(runs)

    def up_to(self, cutoff: datetime) -> PairRuns:
        """The pairs missing since `cutoff` or before."""
        kept = PairRuns([run for run in map(NodeRun.up_to, self.runs, repeat(cutoff)) if run is not None])
        return self if len(kept) == self.size else kept

    def __len__(self) -> int:
        return self.size

    @overload
    def __getitem__(self, index: int) -> DriftPair: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[DriftPair]: ...

    def __getitem__(self, index: int | slice) -> DriftPair | Sequence[DriftPair]:
        if isinstance(index, slice):
            return list(self)[index]
        if index < 0:
            index += self.size
        if not 0 <= index < self.size:
            raise IndexError(index)
        if self._ends is None:
            self._ends = list(accumulate(len(run.images) for run in self.runs))
        at = bisect_right(self._ends, index)
        start = self._ends[at - 1] if at else 0
        return self.runs[at].pair(index - start)

    def __iter__(self) -> Iterator[DriftPair]:
        for run in self.runs:
            yield from run.pairs()

