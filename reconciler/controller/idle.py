"""When an idle cycle may skip planning: the decision, pure (time is a parameter).

A plan is a pure function of its inputs (the loaded fleet of a revision, the observed facts,
the FleetRollout records, the planner settings) and of the time. So when no input changed
since the last plan, and no moment passed at which the same inputs plan differently (a retry
falls due, a job's TTL or stuck deadline, a fresh agent report turning stale, a maintenance
window opening or closing, a wave's pause ending), planning again would give the same plan:
the daemon reuses it (planmemo.py). Only a *quiet* plan is reused, one with nothing to write,
so reusing it never writes anything either; a plan with writes is made again each time.

The big inputs (node, job and inventory facts) are compared by identity: the watch caches hand
out the same tuple until something changes (caches.FactCache.values), and a LIST makes new
ones, so a full read always plans. The small ones are compared by value.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from reconciler.inventory import parse_time
from reconciler.inventory.evidence import EPOCH
from reconciler.kubeedge.status import read_job
from reconciler.manifests.fleet import Fleet
from reconciler.observed import ClusterFacts
from reconciler.observed.rollouts import RolloutFacts
from reconciler.planner.lifecycle import ManagedJob, due_at
from reconciler.planner.model import MANAGED_BY_LABEL, MANAGED_BY_VALUE, Plan
from reconciler.planner.rollout.windows import next_opening, window_opened
from reconciler.planner.settings import PlannerSettings


@dataclass(frozen=True, slots=True)
class PlanInputs:
    """Everything a plan is made from, except the time."""

    fleet: Fleet
    revision: str | None
    facts: ClusterFacts
    rollouts: Mapping[str, RolloutFacts] | None
    settings: PlannerSettings


@dataclass(frozen=True, slots=True)
class LastPlan:
    """A plan, what it was made from, when, and the first moment it may be out of date
    (`due`, None: never by itself)."""

    inputs: PlanInputs
    plan: Plan
    planned_at: datetime
    due: datetime | None
    quiet: bool


def changed_input(before: PlanInputs, now: PlanInputs) -> str | None:
    """The name of the first input that differs between two cycles, or None."""
    a, b = before.facts, now.facts
    checks: Sequence[tuple[str, bool]] = (
        ("revision", before.revision == now.revision),
        ("fleet", before.fleet is now.fleet or before.fleet == now.fleet),
        ("nodes", a.nodes is b.nodes),
        ("jobs", a.jobs is b.jobs),
        ("inventories", a.inventories is b.inventories),
        ("job dialect", (a.job_api_version, a.inventory_served) == (b.job_api_version, b.inventory_served)),
        ("pull secrets", a.secrets == b.secrets),
        ("registry facts", a.registry == b.registry),
        ("rollouts", _same_rollouts(before.rollouts if before.rollouts is not None else a.rollouts,
                                    now.rollouts if now.rollouts is not None else b.rollouts)),
        ("planner settings", before.settings == now.settings),
    )
    return next((name for name, same in checks if not same), None)


def _same_rollouts(a: Mapping[str, RolloutFacts] | None, b: Mapping[str, RolloutFacts] | None) -> bool:
    if a is b:
        return True
    return dict(a or {}) == dict(b or {})


def why_plan(last: LastPlan | None, inputs: PlanInputs, now: datetime) -> str | None:
    """Why this cycle must plan (one phrase for the log), or None: reuse `last.plan`."""
    if last is None:
        return "no plan yet"
    if not last.quiet:
        return "the last plan had writes to make"
    if (name := changed_input(last.inputs, inputs)) is not None:
        return f"{name} changed"
    if now < last.planned_at:
        return "the clock went back"
    if last.due is not None and now >= last.due:
        return f"a moment the plan depends on passed ({last.due.isoformat()})"
    return None


def is_quiet(plan: Plan, rollouts: Mapping[str, RolloutFacts] | None) -> bool:
    """True when applying `plan` writes nothing: no job to create or delete, no inventory to
    record, every rollout status as its FleetRollout holds it (kube.rollouts.write_rollouts)."""
    if plan.create or plan.delete or plan.inventory_updates:
        return False
    records = rollouts or {}
    for status in plan.rollouts:
        record = records.get(status.group)
        if record is None or status.to_status() != record.raw_status:
            return False
    return True


def next_change(plan: Plan, inputs: PlanInputs, at: datetime) -> datetime | None:
    """The earliest moment at or after `at` (the plan's time) from which the same inputs may
    plan differently, or None. The plan's own `revisit_at`, plus moments it leaves out:
    a stuck deadline compared strictly (`age > deadline`, so one falling exactly at `at`),
    fresh agent reports turning stale, and every window boundary of a rollout policy."""
    moments = [t for t in (plan.revisit_at,) if t is not None]
    moments += _job_moments(inputs.facts, plan, inputs.settings)
    moments += _agent_moments(inputs.facts, inputs.fleet)
    moments += _window_moments(inputs.fleet, at)
    return min((t for t in moments if t >= at), default=None)


def _job_moments(facts: ClusterFacts, plan: Plan, settings: PlannerSettings) -> list[datetime]:
    deleted = {d.name for d in plan.delete}
    return [due_at(ManagedJob(job, read_job(job)), settings=settings) for job in facts.jobs
            if job.metadata.labels.get(MANAGED_BY_LABEL) == MANAGED_BY_VALUE
            and job.metadata.deletion_timestamp is None and job.name not in deleted]


def _agent_moments(facts: ClusterFacts, fleet: Fleet) -> list[datetime]:
    # planner/agent_trust.read_reports: fresh while `now - observedAt <= stale_after`.
    stale_after = timedelta(seconds=fleet.agent_stale_after_seconds)
    moments = []
    for inventory in facts.inventories:
        agent = inventory.status.agent
        if agent is None or not agent.complete:
            continue
        observed = parse_time(agent.observed_at)
        if observed != EPOCH:
            moments.append(observed + stale_after)
    return moments


def _window_moments(fleet: Fleet, at: datetime) -> list[datetime]:
    moments = []
    for group in fleet.groups:
        windows = group.rollout.windows if group.rollout is not None else ()
        if not windows:
            continue
        if (opening := next_opening(windows, at)) is not None:
            moments.append(opening)
        for window in windows:
            if (opened := window_opened(window, at)) is not None:
                moments.append(opened + timedelta(seconds=window.seconds))
    return moments
