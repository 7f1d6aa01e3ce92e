"""The Plan: a frozen value, the only input of `kube.apply` and of plan reports.

Apply order (for the adapter): inventory_updates first, then delete, then create; if recording
evidence fails, skip the deletes of that pass (their evidence would be lost).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from reconciler.kubeedge.spec import build_job_manifest
from reconciler.manifests.fleet import JobPolicy

PLAN_API_VERSION = "edgefleet.io/v1alpha1"
MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
MANAGED_BY_VALUE = "edgefleet"
GROUP_LABEL = "edgefleet.io/group"
REVISION_ANNOTATION = "edgefleet.io/revision"


@dataclass(frozen=True, slots=True)
class PlannedJob:
    """An ImagePrePullJob to create: every node of `node_names` desires every image of `images`."""

    name: str
    group: str
    api_version: str
    images: tuple[str, ...]
    node_names: tuple[str, ...]
    secret: str | None
    policy: JobPolicy
    revision: str | None
    attempt: int  # highest failed-attempt count among its pairs (0: first try)

    def manifest(self) -> dict[str, Any]:
        """The complete ImagePrePullJob object, labelled and annotated as edgefleet's."""
        return build_job_manifest(
            name=self.name, api_version=self.api_version, images=self.images,
            node_names=self.node_names, policy=self.policy, secret=self.secret,
            labels={MANAGED_BY_LABEL: MANAGED_BY_VALUE, GROUP_LABEL: self.group},
            annotations={REVISION_ANNOTATION: self.revision} if self.revision else {},
        )


@dataclass(frozen=True, slots=True, order=True)
class JobDeletion:
    """A managed job to delete, and why (one line, for logs and reports)."""

    name: str
    reason: str
    group: str = ""


@dataclass(frozen=True, slots=True, order=True)
class Deferral:
    """A node with work to do that is not targeted now, and why."""

    node: str
    reason: str


@dataclass(frozen=True, slots=True)
class Counts:
    """Pair and job counts. The pair classes partition pairsDesired: present, unknown (absent
    from a possibly truncated list), missing, inFlight, backingOff, failed (attempt limit)."""

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

    def to_dict(self) -> dict[str, int]:
        """camelCase keys in declaration order."""
        return {_camel(f.name): getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True, slots=True)
class GroupCounts:
    """Counts of one group (pairs are counted for the group that owns them)."""

    group: str
    suspended: bool
    counts: Counts

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.group, "suspended": self.suspended, **self.counts.to_dict()}


@dataclass(frozen=True, slots=True)
class Plan:
    """What to do to converge the cluster, and the counts that explain it. Sorted throughout:
    jobs by (group, name), deletions by name, deferrals by node, groups by name."""

    revision: str | None
    job_api_version: str
    create: tuple[PlannedJob, ...]
    delete: tuple[JobDeletion, ...]
    deferred: tuple[Deferral, ...]
    inventory_updates: tuple[Any, ...]  # InventoryUpdate, sorted by node
    groups: tuple[GroupCounts, ...]
    summary: Counts
    group_total: int
    warnings: tuple[str, ...] = ()
    changes: Any = None  # FleetChanges from diff_fleets, set by the caller with --base
    # The earliest future time at which a plan of the same inputs would differ (a retry falls
    # due, a finished job's TTL passes, a running job reaches a stuck deadline): when the
    # daemon must look again even if no watch event arrives. None: nothing is scheduled.
    revisit_at: datetime | None = None
    # Rollouts (docs/rollout.md): (node, group) pairs held back with their reason, and each
    # gated group's new rollout status (written to its FleetRollout by the reconciler).
    gated: tuple[Any, ...] = ()  # rollout.Gated, sorted
    rollouts: tuple[Any, ...] = ()  # rollout.RolloutStatus, by group
    registry: Any = None  # registry_rules.RegistryReport when planned with registry facts
    # Edge agent reports (docs/agent.md): nodes with a fresh / stale report, evicted pairs,
    # disk deferrals. None when no node has a report.
    agent: dict[str, Any] | None = None

    @property
    def has_changes(self) -> bool:
        """True when applying would create or delete a job (exit code 2 of `plan`)."""
        return bool(self.create or self.delete)

    def to_dict(self) -> dict[str, Any]:
        """The docs/design.md §5 JSON object (plus `warnings`, and `changes` when set)."""
        summary: dict[str, Any] = {"nodes": self.summary.nodes, "groups": self.group_total}
        summary.update((k, v) for k, v in self.summary.to_dict().items() if k != "nodes")
        summary["inventoryUpdates"] = len(self.inventory_updates)
        result: dict[str, Any] = {
            "apiVersion": PLAN_API_VERSION,
            "kind": "Plan",
            "revision": self.revision,
            "jobApiVersion": self.job_api_version,
            "summary": summary,
            "create": [job.manifest() for job in self.create],
            "delete": [{"name": d.name, "reason": d.reason} for d in self.delete],
            "deferred": [{"node": d.node, "reason": d.reason} for d in self.deferred],
            "groups": [g.to_dict() for g in self.groups],
            "warnings": list(self.warnings),
        }
        if self.changes is not None:
            result["changes"] = self.changes.to_dict()
        if self.rollouts:
            held: dict[str, dict[str, int]] = {}  # group -> reason -> nodes held back
            for g in self.gated:
                held.setdefault(g.group, {})[g.reason] = held.get(g.group, {}).get(g.reason, 0) + 1
            result["rollouts"] = [{"group": r.group, **r.to_status(), "heldBack": held.get(r.group, {})}
                                  for r in self.rollouts]
            result["gated"] = [{"node": g.node, "group": g.group, "reason": g.reason} for g in self.gated]
        if self.registry is not None:
            result["registry"] = self.registry.to_dict()
        if self.agent is not None:
            result["agent"] = self.agent
        return result


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)
