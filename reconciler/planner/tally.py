"""Per-group counting of pairs and jobs while a plan is made (a local accumulator; the Plan
only ever sees the frozen Counts it produces)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields

from reconciler.desired import DesiredState, NodeDesire
from reconciler.manifests.fleet import Fleet
from reconciler.planner.model import Counts, GroupCounts, JobDeletion, PlannedJob


@dataclass(slots=True)
class _Counter:
    nodes: int = 0
    pairs_desired: int = 0
    pairs_present: int = 0
    pairs_unknown: int = 0
    pairs_missing: int = 0
    pairs_in_flight: int = 0
    pairs_backing_off: int = 0
    pairs_failed: int = 0
    nodes_deferred: int = 0
    jobs_create: int = 0
    jobs_delete: int = 0

    def frozen(self) -> Counts:
        return Counts(**{f.name: getattr(self, f.name) for f in fields(self)})


class Tally:
    """Counts per owning group (a pair belongs to the group that won it in desired state)."""

    def __init__(self, fleet: Fleet, desired: DesiredState) -> None:
        self._suspended = {g.name: g.suspend for g in fleet.groups}
        self._counters = {g.name: _Counter() for g in fleet.groups}
        for group, nodes in desired.group_nodes.items():
            self._counters[group].nodes = len(nodes)

    def all_present(self, desire: NodeDesire) -> None:
        """Count a node that holds everything it desires."""
        for group, images in desire.by_group:
            counter = self._counters[group]
            counter.pairs_desired += len(images)
            counter.pairs_present += len(images)

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
            counter.pairs_desired += len(images)
            mine = images & absent
            counter.pairs_present += len(images) - len(mine)
            if not mine:
                continue
            counter.pairs_in_flight += len(mine & flying)
            counter.pairs_backing_off += len(mine & backing)
            counter.pairs_failed += len(mine & failed)
            if truncated:
                counter.pairs_unknown += len(mine & todo)
            else:
                counter.pairs_missing += len(mine & todo)

    def deferred(self, desire: NodeDesire, plannable: frozenset[str]) -> None:
        """Count a deferred node in every group that has work for it."""
        for group, images in desire.by_group:
            if not images.isdisjoint(plannable):
                self._counters[group].nodes_deferred += 1

    def jobs(self, created: Iterable[PlannedJob], deleted: Iterable[JobDeletion]) -> None:
        """Count jobs per group (deletions of jobs whose group left the fleet count nowhere)."""
        for job in created:
            self._counters[job.group].jobs_create += 1
        for deletion in deleted:
            counter = self._counters.get(deletion.group)
            if counter is not None:
                counter.jobs_delete += 1

    def groups(self) -> tuple[GroupCounts, ...]:
        """Frozen counts per group, sorted by name."""
        return tuple(
            GroupCounts(name, self._suspended[name], counter.frozen())
            for name, counter in sorted(self._counters.items())
        )

    def summary(self, nodes: int, deferred: int, jobs_create: int, jobs_delete: int) -> Counts:
        """Totals over groups; nodes, deferred nodes and jobs are counted once, not per group."""
        total = _Counter(nodes=nodes, nodes_deferred=deferred, jobs_create=jobs_create,
                         jobs_delete=jobs_delete)
        for counter in self._counters.values():
            total.pairs_desired += counter.pairs_desired
            total.pairs_present += counter.pairs_present
            total.pairs_unknown += counter.pairs_unknown
            total.pairs_missing += counter.pairs_missing
            total.pairs_in_flight += counter.pairs_in_flight
            total.pairs_backing_off += counter.pairs_backing_off
            total.pairs_failed += counter.pairs_failed
        return total.frozen()
