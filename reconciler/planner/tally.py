"""Per-group counting of pairs and jobs while a plan is made (a local accumulator; the Plan
only ever sees the frozen Counts it produces)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import fields

from reconciler.desired import DesiredState, NodeDesire
from reconciler.manifests.fleet import Fleet
from reconciler.planner.model import Counts, GroupCounts, JobDeletion, PlannedJob

#: A group's running counts: one entry per field of Counts, the one type that names them.
_Counter = dict[str, int]
_FIELDS = tuple(f.name for f in fields(Counts))
_PAIR_FIELDS = tuple(name for name in _FIELDS if name.startswith("pairs_"))


def _counter(**start: int) -> _Counter:
    counter = dict.fromkeys(_FIELDS, 0)
    counter.update(start)
    return counter


class Tally:
    """Counts per owning group (a pair belongs to the group that won it in desired state)."""

    def __init__(self, fleet: Fleet, desired: DesiredState) -> None:
        self._suspended = {g.name: g.suspend for g in fleet.groups}
        self._counters = {g.name: _counter() for g in fleet.groups}
        for group, nodes in desired.group_nodes.items():
            self._counters[group]["nodes"] = len(nodes)

    def all_present(self, desire: NodeDesire) -> None:
        """Count a node that holds everything it desires."""
        for group, images in desire.by_group:
            counter = self._counters[group]
            counter["pairs_desired"] += len(images)
            counter["pairs_present"] += len(images)

    def node(
        self,
        desire: NodeDesire,
        *,
        absent: frozenset[str],
        flying: frozenset[str],
        backing: set[str],
        failed: set[str],
        todo: frozenset[str],
        truncated: bool,
    ) -> None:
        """Count a node's pairs: absent ones split into in flight, backing off, failed and
        to do (unknown when the node's image list may be truncated, else missing)."""
        for group, images in desire.by_group:
            counter = self._counters[group]
            counter["pairs_desired"] += len(images)
            mine = images & absent
            counter["pairs_present"] += len(images) - len(mine)
            if not mine:
                continue
            counter["pairs_in_flight"] += len(mine & flying)
            counter["pairs_backing_off"] += len(mine & backing)
            counter["pairs_failed"] += len(mine & failed)
            if truncated:
                counter["pairs_unknown"] += len(mine & todo)
            else:
                counter["pairs_missing"] += len(mine & todo)

    def deferred(self, desire: NodeDesire, plannable: frozenset[str]) -> None:
        """Count a deferred node in every group that has work for it."""
        for group, images in desire.by_group:
            if not images.isdisjoint(plannable):
                self._counters[group]["nodes_deferred"] += 1

    def jobs(self, created: Iterable[PlannedJob], deleted: Iterable[JobDeletion]) -> None:
        """Count jobs per group (deletions of jobs whose group left the fleet count nowhere)."""
        for job in created:
            self._counters[job.group]["jobs_create"] += 1
        for deletion in deleted:
            counter = self._counters.get(deletion.group)
            if counter is not None:
                counter["jobs_delete"] += 1

    def groups(self) -> tuple[GroupCounts, ...]:
        """Frozen counts per group, sorted by name."""
        return tuple(
            GroupCounts(name, self._suspended[name], Counts(**counter))
            for name, counter in sorted(self._counters.items())
        )

    def summary(self, nodes: int, deferred: int, jobs_create: int, jobs_delete: int) -> Counts:
        """Totals over groups; nodes, deferred nodes and jobs are counted once, not per group."""
        total = _counter(nodes=nodes, nodes_deferred=deferred, jobs_create=jobs_create,
                         jobs_delete=jobs_delete)
        for counter in self._counters.values():
            for name in _PAIR_FIELDS:
                total[name] += counter[name]
        return Counts(**total)
