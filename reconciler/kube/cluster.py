"""A live cluster as one cycle sees it: observe it, then apply a plan to it."""

from __future__ import annotations

from collections.abc import Iterable

from reconciler.kube.applying import ApplyReport, Progress, apply_plan
from reconciler.kube.discovery import DiscoveryError
from reconciler.kube.reading import observe
from reconciler.kube.rollouts import read_rollouts, write_rollouts
from reconciler.kube.session import Session, WriteFence
from reconciler.observed import ClusterFacts
from reconciler.observed.rollouts import RolloutFacts
from reconciler.planner.model import Plan

MISSING_INVENTORY_CRD = (
    "the EdgeNodeInventory CRD (edgenodeinventories.edgefleet.io) is not installed, so evidence "
    "cannot be recorded: run `edgefleet sync --install-crds` or `kubectl apply -f deploy/crds/`")


class LiveCluster:
    """Observe and apply through one `Session`. Remembers only what the last `observe` said
    about the served APIs (which job dialect to write, whether inventories can be recorded).
    Every write of `apply` passes `fence` when one is set (the daemon's Lease)."""

    def __init__(self, session: Session, *, progress: Progress | None = None,
                 fence: WriteFence | None = None) -> None:
        self.session = session
        self.progress = progress
        self.fence = fence
        self._facts: ClusterFacts | None = None
        self.rollouts: dict[str, RolloutFacts] = {}  # FleetRollouts by group, as last observed

    def observe(self, *, secrets: Iterable[str] = ()) -> ClusterFacts:
        """List nodes, jobs and inventories, and check which of the pull secrets `secrets`
        (namespace/name) exist (see kube.reading.observe)."""
        self._facts = observe(self.session, secret_refs=secrets)
        self.rollouts = read_rollouts(self.session)
        return self._facts

    def apply(self, plan: Plan, *, dry_run: bool) -> ApplyReport:
        """Apply `plan` (see kube.applying.apply_plan) in the dialect the last observe found.

        A plan that records evidence on a cluster without the EdgeNodeInventory CRD is refused
        before any write, with a failure saying how to install it.
        """
        facts = self._facts if self._facts is not None else self.observe()
        if plan.inventory_updates and not facts.inventory_served:
            return ApplyReport(dry_run=dry_run, failure=DiscoveryError(MISSING_INVENTORY_CRD))
        report = apply_plan(self.session, plan, job_api_version=facts.job_api_version,
                            dry_run=dry_run, progress=self.progress, fence=self.fence)
        # docs/rollout.md: progress survives restarts (once its evidence is all recorded)
        if report.failure is None and not report.unwritten and plan.rollouts:
            write_rollouts(self.session, plan.rollouts, self.rollouts, dry_run=dry_run, fence=self.fence)
        return report
