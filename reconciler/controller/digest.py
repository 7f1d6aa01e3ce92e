"""From a cycle's result (and the facts it observed) to the `CycleView` people and Prometheus read.

Pure: the result, the facts and the git follower's status in, a frozen view out.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from reconciler.controller.gitpoll import RevisionStatus
from reconciler.controller.view import CycleView, GroupView, JobView, NodeNote
from reconciler.cycle.outcome import CycleResult
from reconciler.kubeedge.status import read_job
from reconciler.observed import ClusterFacts
from reconciler.planner.model import GROUP_LABEL, MANAGED_BY_LABEL, MANAGED_BY_VALUE, Plan


def _groups(plan: Plan) -> tuple[GroupView, ...]:
    views = []
    for group in plan.groups:
        c = group.counts
        views.append(GroupView(
            name=group.group, desired=c.pairs_desired, present=c.pairs_present,
            # Unknown pairs (absent from a possibly truncated image list) are planned like
            # missing ones, so a person sees them as work still to do.
            missing=c.pairs_missing + c.pairs_unknown, in_flight=c.pairs_in_flight,
            backing_off=c.pairs_backing_off, failed=c.pairs_failed, deferred_nodes=c.nodes_deferred,
            pending_jobs=c.jobs_create, suspended=group.suspended))
    return tuple(views)


def _jobs(facts: ClusterFacts) -> tuple[tuple[tuple[str, int], ...], tuple[JobView, ...]]:
    phases: Counter[str] = Counter()
    in_flight: list[JobView] = []
    for job in facts.jobs:
        labels = job.metadata.labels
        if labels.get(MANAGED_BY_LABEL) != MANAGED_BY_VALUE:
            continue
        reading = read_job(job)
        phases[reading.phase] += 1
        if not reading.finished:
            in_flight.append(JobView(name=job.name, group=labels.get(GROUP_LABEL, ""),
                                     phase=reading.phase, nodes=len(reading.nodes),
                                     images=len(reading.images)))
    return tuple(sorted(phases.items())), tuple(sorted(in_flight, key=lambda j: (j.group, j.name)))


def _failing(facts: ClusterFacts, attempt_limit: int) -> tuple[NodeNote, ...]:
    notes = [NodeNote(node=inv.name, image=f.image, attempts=f.attempts, reason=f.last_error)
             for inv in facts.inventories for f in inv.status.failures if f.attempts >= attempt_limit]
    return tuple(sorted(notes, key=lambda n: (n.node, n.image)))


def digest(result: CycleResult, facts: ClusterFacts | None, revisions: RevisionStatus, *,
           attempt_limit: int, finished_at: datetime, duration: float,
           previous: CycleView | None = None) -> CycleView:
    """The view of one finished cycle.

    `facts` is what the cycle observed (None when it stopped before observing); `revisions`
    says which head was fetched and whether it failed to load. Group numbers come from the
    plan; jobs and failing pairs from the facts. A cycle that stopped before planning (or
    observing) keeps those parts of `previous`: the fleet did not change because a commit
    was invalid or the API server was busy, and a person should still see it.
    """
    in_force = result.in_force.revision if result.in_force is not None else None
    error = revisions.bad_reason if revisions.bad is not None and revisions.bad == revisions.head else None
    groups = previous.groups if previous is not None else ()
    deferred = previous.deferred if previous is not None else ()
    agent = previous.agent if previous is not None else ()
    if result.plan is not None:
        agent = tuple((k, v) for k, v in (result.plan.agent or {}).items() if isinstance(v, int))
        groups = _groups(result.plan)
        deferred = tuple(NodeNote(node=d.node, reason=d.reason) for d in result.plan.deferred)
    phases = previous.jobs_by_phase if previous is not None else ()
    in_flight = previous.jobs_in_flight if previous is not None else ()
    failing = previous.failing if previous is not None else ()
    if facts is not None:
        phases, in_flight = _jobs(facts)
        failing = _failing(facts, attempt_limit)
    applied = result.applied
    return CycleView(
        outcome=str(result.outcome), message=result.message, finished_at=finished_at,
        duration=duration, revision_in_force=in_force, revision_seen=revisions.head,
        revision_error=error, groups=groups, jobs_by_phase=phases, jobs_in_flight=in_flight,
        jobs_created=len(applied.created) if applied else 0,
        jobs_deleted=len(applied.deleted) if applied else 0,
        deferred=deferred, failing=failing, agent=agent)
