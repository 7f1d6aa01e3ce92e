"""The function-shaped fake the `Cluster` Protocol promises: a cycle's view of the cluster made
of two callables, so `sync_once` can be table-tested without a server."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from reconciler.kube.applying import ApplyReport
from reconciler.observed import ClusterFacts
from reconciler.planner import Plan


@dataclass
class FakeCluster:
    """`observe` and `apply` are plain functions; every applied plan is kept in `applied`, and
    the pull secrets each `observe` was asked to check in `asked_secrets`."""

    observe_facts: Callable[[], ClusterFacts]
    apply_plan: Callable[[Plan, bool], ApplyReport]
    applied: list[Plan] = field(default_factory=list)
    asked_secrets: list[frozenset[str]] = field(default_factory=list)

    def observe(self, *, secrets: Iterable[str] = ()) -> ClusterFacts:
        self.asked_secrets.append(frozenset(secrets))
        return self.observe_facts()

    def apply(self, plan: Plan, *, dry_run: bool) -> ApplyReport:
        self.applied.append(plan)
        return self.apply_plan(plan, dry_run)
