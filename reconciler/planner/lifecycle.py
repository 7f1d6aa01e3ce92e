"""Lifecycle of existing managed jobs: stuck detection and garbage collection (pure).

Only jobs labelled `app.kubernetes.io/managed-by: edgefleet` are ever judged; jobs already being
deleted (deletionTimestamp set) are left to finish terminating.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from reconciler.inventory import JobEvidence, evidence_recorded, job_created
from reconciler.kubeedge.status import JobReading
from reconciler.observed.inventories import InventoryFacts
from reconciler.observed.jobs import JobFacts
from reconciler.planner.model import GROUP_LABEL, JobDeletion
from reconciler.planner.settings import PlannerSettings

_DEFAULT_TIMEOUT = 300  # what KubeEdge v1alpha1 uses for 0; v1alpha2 would never time out


@dataclass(frozen=True, slots=True)
class ManagedJob:
    """A managed, non-terminating job with its reading."""

    job: JobFacts
    reading: JobReading

    @property
    def group(self) -> str:
        return self.job.metadata.labels.get(GROUP_LABEL, "")

    @property
    def created(self) -> datetime:
        return job_created(self.job)


def _limits(managed: ManagedJob, settings: PlannerSettings) -> tuple[timedelta, timedelta | None]:
    """(deadline after creation, idle limit after the last report or None) of a running job.

    The deadline is the time its nodes may take x slack + grace, where that time is the emitted
    timeoutSeconds on v1alpha2 (already per node x waves, kubeedge.job_timeout_seconds) and
    timeoutSeconds x waves on v1alpha1 (its timer is per node). The idle limit (v1alpha2 only)
    is one node's timeout x slack + grace.
    """
    reading, template = managed.reading, managed.job.template
    emitted = template.timeout_seconds or _DEFAULT_TIMEOUT
    waves = math.ceil(max(len(reading.nodes), 1) / max(template.concurrency, 1))
    per_wave = emitted / waves if reading.dialect == "v1alpha2" else emitted
    deadline = timedelta(seconds=per_wave * waves * settings.stuck_slack) + settings.stuck_grace
    if reading.dialect != "v1alpha2":
        return deadline, None
    return deadline, timedelta(seconds=per_wave * settings.stuck_slack) + settings.stuck_grace


def _last_activity(managed: ManagedJob) -> datetime:
    return max(managed.created, managed.reading.last_report or managed.created)


def stuck_reason(managed: ManagedJob, *, now: datetime, settings: PlannerSettings) -> str | None:
    """Why an unfinished job counts as stuck, or None.

    A job without a phase past `pending_grace` never started (controller-manager missing, or an
    unknown node on v1alpha1, kubeedge#5531). A running job is stuck past its deadline (see
    `_limits`). A running v1alpha2 job is also stuck once nothing has happened in it (no status
    report) for one node's timeout x slack + grace: every slot is held by a node that does not
    answer (kubeedge#7049), or CloudCore lost the job, and 1.21 would otherwise time the queued
    nodes out only at the very end.
    """
    reading = managed.reading
    if reading.finished:
        return None
    age = now - managed.created
    if reading.phase == "pending":
        if age > settings.pending_grace:
            return (f"stuck: no phase {_minutes(age)} after creation "
                    "(is the KubeEdge controller-manager running?)")
        return None
    deadline, idle_limit = _limits(managed, settings)
    if age > deadline:
        return (f"stuck: in progress {_minutes(age)} after creation, past its deadline of "
                f"{_minutes(deadline)} (kubeedge#7049)")
    if idle_limit is not None:
        idle = now - _last_activity(managed)
        if idle > idle_limit:
            return (f"stuck: no node has reported for {_minutes(idle)}, past one node's "
                    f"{_minutes(idle_limit)} (a silent node holds the job, kubeedge#7049)")
    return None


def due_at(managed: ManagedJob, *, settings: PlannerSettings) -> datetime:
    """When, without any new event, a plan would first judge this job differently: a finished
    job's TTL expiry (it may then be collected), an unfinished one's earliest stuck deadline."""
    if managed.reading.finished:
        return _last_activity(managed) + settings.ttl_after_finished
    if managed.reading.phase == "pending":
        return managed.created + settings.pending_grace
    deadline, idle_limit = _limits(managed, settings)
    at = managed.created + deadline
    if idle_limit is not None:
        at = min(at, _last_activity(managed) + idle_limit)
    return at


def obsolete(reading: JobReading, desired: Mapping[str, frozenset[str]]) -> bool:
    """True when no (node, image) pair of the job is desired any more."""
    for node in reading.nodes:
        wanted = desired.get(node)
        if wanted and not wanted.isdisjoint(reading.images):
            return False
    return True


def collectable(
    finished: list[ManagedJob],
    *,
    evidence: Mapping[str, Mapping[str, JobEvidence]],
    inventories: Mapping[str, InventoryFacts],
    desired: Mapping[str, frozenset[str]],
    reported: Mapping[str, frozenset[str]] | None = None,
    now: datetime,
    settings: PlannerSettings,
) -> list[JobDeletion]:
    """Finished jobs to delete: evidence recorded in the observed inventory objects (or the pair
    is present by any source: `reported` is node -> images its node status lists), and
    `ttl_after_finished` passed since the last status report, except the `keep_newest` newest
    per group. `evidence` is job name -> node -> that job's evidence."""
    by_group: dict[str, list[ManagedJob]] = defaultdict(list)
    for managed in finished:
        by_group[managed.group].append(managed)
    deletions: list[JobDeletion] = []
    for group, jobs in by_group.items():
        jobs.sort(key=lambda m: (m.created, m.job.name), reverse=True)
        for managed in jobs[settings.keep_newest :]:
            if now < due_at(managed, settings=settings):
                continue  # TTL not passed yet
            if not evidence_recorded(
                managed.job.name, managed.created, evidence.get(managed.job.name, {}), inventories, desired,
                reported,
            ):
                continue
            deletions.append(JobDeletion(
                managed.job.name, f"finished ({managed.reading.phase}), evidence recorded, TTL passed", group
            ))
    return deletions


def _minutes(span: timedelta) -> str:
    return f"{int(span.total_seconds() // 60)}m"
