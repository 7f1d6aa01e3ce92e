"""Drifting pairs as columns: the form `drift_facts` builds and `build_report` reads.

A fleet of 100,000 nodes has a million drifting pairs, and the report lists at most a thousand
of them: building one object per pair costs more than the report's whole aggregation. The
columns hold the same pairs as plain lists (extended per node by C-level maps), and a
`DriftPair` is made only for a pair that is read by index or iteration (the listed rows).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from itertools import compress
from operator import attrgetter
from typing import Any, overload

from reconciler.drift.reasons import Reason
from reconciler.drift.report import DriftPair, PairDetail

_FIELDS = attrgetter("node", "group", "image", "reason", "since", "detail")


class PairColumns(Sequence[DriftPair]):
    """A sequence of DriftPair stored column-wise; index i of every column is pair i."""

    __slots__ = ("details", "groups", "images", "nodes", "reasons", "since")

    def __init__(self) -> None:
        self.nodes: list[str] = []
        self.groups: list[str] = []
        self.images: list[str] = []
        self.reasons: list[Reason] = []
        self.since: list[datetime] = []
        self.details: list[PairDetail | None] = []

    @classmethod
    def of(cls, pairs: Iterable[DriftPair]) -> PairColumns:
        """The columns of `pairs`, in their order."""
        table = cls()
        for column, values in zip(table._columns(), zip(*map(_FIELDS, pairs), strict=True), strict=False):
            column.extend(values)
        return table

    def append(self, node: str, group: str, image: str, reason: Reason, since: datetime,
               detail: PairDetail | None = None) -> None:
        """Add one pair at the end."""
        self.nodes.append(node)
        self.groups.append(group)
        self.images.append(image)
        self.reasons.append(reason)
        self.since.append(since)
        self.details.append(detail)

    def select(self, keep: Iterable[bool]) -> PairColumns:
        """The pairs whose flag in `keep` is true, in order."""
        flags = list(keep)
        table = PairColumns()
        for mine, theirs in zip(self._columns(), table._columns(), strict=True):
            theirs.extend(compress(mine, flags))
        return table

    def _columns(self) -> tuple[list[Any], ...]:  # the six columns, in DriftPair's field order
        return self.nodes, self.groups, self.images, self.reasons, self.since, self.details

    def __len__(self) -> int:
        return len(self.nodes)

    @overload
    def __getitem__(self, index: int) -> DriftPair: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[DriftPair]: ...

    def __getitem__(self, index: int | slice) -> DriftPair | Sequence[DriftPair]:
        if isinstance(index, slice):
            return list(map(DriftPair, *(column[index] for column in self._columns())))
        return DriftPair(self.nodes[index], self.groups[index], self.images[index], self.reasons[index],
                         self.since[index], self.details[index])

    def __iter__(self) -> Iterator[DriftPair]:
        return map(DriftPair, *self._columns())
