"""The missingSince memory, kept per node: (node, image) -> when the pair was first seen missing.

A fleet of 100,000 nodes has a million missing pairs but few distinct times (one per report that
saw pairs go missing), and a node's missing pairs mostly went missing together. So the memory
holds one entry per node, made from the node's run at no per-pair cost: the set and sorted tuple
of its missing images and either one `since` for all of them or a tuple with one per image. It
reads as a Mapping[(node, image), datetime] for callers that want pairs (the history's rows,
tests); `drift_facts` reads it per node.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from itertools import repeat

from reconciler.drift.runs import column, one_or_each

PairKey = tuple[str, str]  # (node, image)
#: One node's memory: its missing images as a set and sorted, and their since (one or each).
NodeMemory = tuple[frozenset[str], tuple[str, ...], datetime | tuple[datetime, ...]]


class MissingSince(Mapping[PairKey, datetime]):
    """The missingSince of every missing pair, stored per node."""

    __slots__ = ("_nodes", "_size")

    def __init__(self, nodes: dict[str, NodeMemory] | None = None) -> None:
        self._nodes: dict[str, NodeMemory] = nodes if nodes is not None else {}
        self._size = sum(len(images) for _, images, _ in self._nodes.values())

    @property
    def by_node(self) -> Mapping[str, NodeMemory]:
        """Node -> its memory (read-only by convention; drift_facts reads it once per node)."""
        return self._nodes

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
        nodes: dict[str, NodeMemory] = {}
        for node, since_of in per_node.items():
            images = tuple(sorted(since_of))
            nodes[node] = (frozenset(images), images, one_or_each([since_of[i] for i in images]))
        return cls(nodes)

    def node(self, name: str) -> NodeMemory | None:
        """The memory of node `name` (None: no missing pair remembered)."""
        return self._nodes.get(name)

    def rows(self) -> Iterator[tuple[str, str, datetime]]:
        """Every remembered pair as (node, image, since), by node then image."""
        for node in sorted(self._nodes):
            _, images, since = self._nodes[node]
            yield from zip(repeat(node), images, column(since, len(images)))

    def __getitem__(self, key: PairKey) -> datetime:
        node, image = key
        entry = self._nodes.get(node)
        if entry is None or image not in entry[0]:
            raise KeyError(key)
        since = entry[2]
        return since[entry[1].index(image)] if isinstance(since, tuple) else since

    def __iter__(self) -> Iterator[PairKey]:
        return ((node, image) for node, image, _ in self.rows())

    def __len__(self) -> int:
        return self._size


def since_of(memory: NodeMemory, missing: frozenset[str], images: tuple[str, ...],
             now: datetime) -> datetime | tuple[datetime, ...]:
    """The since of a node's missing `images` (sorted `missing`) given its memory: remembered
    pairs keep their time, new ones start at `now`; one value when all agree."""
    known, remembered, since = memory
    if not isinstance(since, tuple):
        if missing <= known:
            return since
        if known.isdisjoint(missing):
            return now
        return one_or_each([since if image in known else now for image in images])
    lookup = dict(zip(remembered, since, strict=True))
    return one_or_each(list(map(lookup.get, images, repeat(now))))  # type: ignore[arg-type]
