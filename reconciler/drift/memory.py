"""The missingSince memory, kept per node: (node, image) -> when the pair was first seen missing.

A fleet of 100,000 nodes has a million missing pairs but few distinct times (one per report that
saw pairs go missing), and a node's missing pairs mostly went missing together. So the memory
holds one entry per node: its sorted missing images and either one `since` for all of them or a
tuple with one per image. The memory of a report is its runs themselves (a NodeRun has both),
so keeping it costs nothing per pair, and no entry is tracked by the garbage collector (a full
collection over a large fleet's facts costs more than the report). It reads as a
Mapping[(node, image), datetime] for callers that want pairs (the history's rows, tests);
`drift_facts` reads it per node.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from itertools import repeat
from operator import attrgetter
from typing import Protocol

import msgspec

from reconciler.drift.runs import column, one_or_each

PairKey = tuple[str, str]  # (node, image)
_IMAGES = attrgetter("images")


class Remembered(Protocol):
    """One node's memory (a NodeRun is one): sorted missing images and their since."""

    @property
    def images(self) -> tuple[str, ...]: ...

    @property
    def since(self) -> datetime | tuple[datetime, ...]: ...


class NodeMemory(msgspec.Struct, frozen=True, gc=False):
    """A node's memory read back from a store: sorted images, one since or one per image."""

    images: tuple[str, ...]
    since: datetime | tuple[datetime, ...]


class MissingSince(Mapping[PairKey, datetime]):
    """The missingSince of every missing pair, stored per node."""

    __slots__ = ("_nodes", "_size")

    def __init__(self, nodes: Mapping[str, Remembered] | None = None) -> None:
        self._nodes: Mapping[str, Remembered] = nodes if nodes is not None else {}
        self._size = sum(map(len, map(_IMAGES, self._nodes.values())))

    @classmethod
    def of(cls, pairs: Mapping[PairKey, datetime] | Iterable[tuple[str, str, datetime]]) -> MissingSince:
        """The memory of a pair mapping, or of (node, image, since) rows in any order."""
        if isinstance(pairs, MissingSince):
            return pairs
        rows = ((node, image, since) for (node, image), since in pairs.items()) \
            if isinstance(pairs, Mapping) else pairs
        per_node: dict[str, dict[str, datetime]] = {}
        for node, image, since in rows:
            per_node.setdefault(node, {})[image] = since
        nodes: dict[str, Remembered] = {}
        for node, since_of_image in per_node.items():
            images = tuple(sorted(since_of_image))
            nodes[node] = NodeMemory(images, one_or_each([since_of_image[i] for i in images]))
        return cls(nodes)

    @property
    def by_node(self) -> Mapping[str, Remembered]:
        """Node -> its memory (drift_facts reads it once per node)."""
        return self._nodes

    def rows(self) -> Iterator[tuple[str, str, datetime]]:
        """Every remembered pair as (node, image, since), by node then image."""
        for node in sorted(self._nodes):
            entry = self._nodes[node]
            yield from zip(repeat(node), entry.images, column(entry.since, len(entry.images)))

    def __getitem__(self, key: PairKey) -> datetime:
        node, image = key
        entry = self._nodes.get(node)
        if entry is None or image not in entry.images:
            raise KeyError(key)
        since = entry.since
        return since[entry.images.index(image)] if isinstance(since, tuple) else since

    def __iter__(self) -> Iterator[PairKey]:
        return ((node, image) for node, image, _ in self.rows())

    def __len__(self) -> int:
        return self._size


def since_of(memory: Remembered, images: tuple[str, ...], now: datetime) -> datetime | tuple[datetime, ...]:
    """The since of a node's missing `images` (sorted) given its memory: remembered pairs keep
    their time, new ones start at `now`; one value when all agree."""
    remembered, since = memory.images, memory.since
    if images == remembered:  # the usual report: nothing recovered, nothing new
        return since
    if not isinstance(since, tuple):
        known = frozenset(remembered)
        if known.issuperset(images):
            return since
        if known.isdisjoint(images):
            return now
        return one_or_each([since if image in known else now for image in images])
    lookup = dict(zip(remembered, since, strict=True))
    return one_or_each([lookup.get(image, now) for image in images])
