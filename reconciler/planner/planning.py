"""plan(): desired state x inventory x existing jobs -> Plan (docs/design.md §4), pure and deterministic.

Order of a pass: read every job; judge managed ones (obsolete, stuck, in flight, finished);
fold job evidence into the EdgeNodeInventory statuses; collect finished jobs whose evidence is
recorded; classify every desired pair; cut the missing ones into jobs.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from reconciler.desired import DesiredState, NodeDesire, desired_state
from reconciler.inventory import (
    InventoryUpdate,
    JobEvidence,
    align_evidence,
    collect_evidence,
    infer_image_cap,
    inventory_update,
    job_created,
    list_truncated,
    next_status,
    parse_time,
    went_silent,
)
from reconciler.kubeedge.status import JobReading, read_job
from reconciler.manifests.fleet import Fleet
from reconciler.observed.inventories import InventoryFacts, InventoryFailure, InventoryStatus
from reconciler.observed.jobs import JobFacts
from reconciler.observed.nodes import NodeFacts
from reconciler.observed.registry import ImageFacts
from reconciler.observed.rollouts import RolloutFacts
from reconciler.planner.agent_trust import AgentTrust, AgentView, forget_evicted, read_reports
from reconciler.planner.jobs import JobKey, cut_jobs
from reconciler.planner.lifecycle import ManagedJob, collectable, due_at, obsolete, stuck_reason
from reconciler.planner.model import (
    MANAGED_BY_LABEL,
    MANAGED_BY_VALUE,
    Deferral,
    JobDeletion,
    Plan,
)
from reconciler.planner.registry_disk import with_registry_sizes
from reconciler.planner.registry_rules import hold_work, pin_fleet, registry_report
from reconciler.planner.rollout import gate_work
from reconciler.planner.secrets import blocked_groups, missing_secrets
from reconciler.planner.settings import PlannerSettings
from reconciler.planner.tally import Tally

NOT_READY = "node is not Ready: KubeEdge would count it as failed; {n} image(s) wait for it"
OBSOLETE = "no longer desired on any of its nodes"


class EmptyDesiredState(ValueError):
    """The revision desires no (node, image) pair and FleetConfig.allowEmpty is false: refusing
    protects the cluster from a broken commit that would garbage-collect everything."""


def plan(
    fleet: Fleet,
    nodes: Iterable[NodeFacts],
    jobs: Iterable[JobFacts],
    inventories: Iterable[InventoryFacts],
    *,
    now: datetime,
    revision: str | None,
    job_api_version: str,
    settings: PlannerSettings | None = None,
    secrets: frozenset[str] | None = None,
    rollouts: Mapping[str, RolloutFacts] | None = None,
    registry: Mapping[str, ImageFacts] | None = None,
    resolved: DesiredState | None = None,
    agents: AgentTrust | None = None,
    absent_into: dict[str, tuple[str, ...]] | None = None,
) -> Plan:
    """Plan one reconcile pass. Reads the resolved fleet, nodes, every ImagePrePullJob (managed or
    not: any job's per-image success is evidence, only managed ones are judged) and the
    EdgeNodeInventory objects; `now` is the current time (aware). Returns a sorted, frozen Plan.
    Raises EmptyDesiredState (nothing desired, allowEmpty false; nothing is planned or deleted)
    and kubeedge.JobSpecError for an unsupported job_api_version. `secrets`: the pull secrets
    known to exist (None: unchecked); a group naming another gets no new job, and a warning.
    `registry`: facts per committed image (None: not asked; planner/registry_rules.py).
    `agents`: trust fresh edge agent reports (planner/agent_trust.py; None: ignore them).
    `absent_into`: when given (and no registry pins change the desired state), every node's
    absent images are recorded into it, sorted, for a drift report made from this plan.

    The pass is a chain of named steps, each reading only what it names and returning a value
    the next ones read: desire -> read jobs -> judge live jobs -> record evidence -> collect
    finished jobs -> classify pairs -> cut jobs -> revisit time.
    """
    settings = settings or PlannerSettings()
    pinning = None
    if registry is not None:  # docs/registry.md: pin digests, then hold what must not be sent
        jobs = list(jobs)
        pinning = pin_fleet(fleet, registry, jobs)
        fleet = pinning.fleet
    node_list = list(nodes)
    # `resolved`: desired_state(fleet, nodes) when the caller has it already (drift reports).
    desired = _desire(fleet, node_list, resolved if pinning is None else None)  # pins change it
    wanted = {name: d.image_set for name, d in desired.nodes.items()}
    readings, live = _read_jobs(jobs)
    judged = _judge(live, wanted, now=now, settings=settings)
    observed = {inv.name: inv for inv in inventories}
    view = read_reports(observed.values(), now=now, trust=agents) if agents is not None else None
    recorded = _record(readings, judged.stuck, observed, desired, wanted, node_list, now=now,
                       settings=settings, view=view)
    view = recorded.view
    if view is not None and pinning is not None:  # the disk rule also weighs registry sizes
        view = with_registry_sizes(view, pinning, node_list)
    deletions = judged.deletions + collectable(
        judged.finished, evidence=recorded.by_job, inventories=observed, desired=wanted,
        reported={n.name: n.images for n in node_list}, now=now, settings=settings,
    )
    tally = Tally(fleet, desired)
    pairs = _classify(
        desired, node_list, recorded.statuses, judged.in_flight, tally,
        suspended={g.name: g.suspend for g in fleet.groups}, now=now, settings=settings, view=view,
        absent_into=absent_into if pinning is None else None,
    )
    missing = missing_secrets(fleet, secrets)
    blocked = blocked_groups(missing)
    work = {key: jobs for key, jobs in pairs.work.items() if key[0] not in blocked}
    work, holds = hold_work(work, pinning, node_list) if pinning is not None else (work, ())
    gate = gate_work(fleet, desired, node_list, recorded.statuses, judged.in_flight, work,
                     records=rollouts or {}, now=now)  # docs/rollout.md; no policy: unchanged
    created = cut_jobs(
        gate.work, history=pairs.history, api_version=job_api_version, revision=revision,
        taken={job.name for job, _, _ in readings}, solo=pairs.suspects,
    )
    deletions.sort()
    tally.jobs(created, deletions)
    held = registry_report(pinning, holds, created, node_list) if pinning is not None else None
    return Plan(
        revision=revision,
        job_api_version=job_api_version,
        create=tuple(created),
        delete=tuple(deletions),
        deferred=tuple(sorted(pairs.deferred)),
        inventory_updates=tuple(recorded.updates),
        groups=tally.groups(),
        summary=tally.summary(len(desired.nodes), len(pairs.deferred), len(created), len(deletions)),
        group_total=len(fleet.groups),
        warnings=desired.warnings + tuple(str(m) for m in missing) + (held.warnings if held else ())
                 + (view.warnings() if view else ()),
        revisit_at=_revisit(live, deletions, [*pairs.retries, *filter(None, [gate.revisit_at])],
                            now=now, settings=settings),
        gated=gate.gated,
        rollouts=gate.rollouts,
        registry=held,
        agent=_agent_summary(view, desired, pairs.deferred),
    )


def _agent_summary(view: AgentView | None, desired: DesiredState, deferred: list[Deferral]
                   ) -> dict[str, object] | None:
    """The plan's `agent` section: None when no node has an agent report (plans stay as they were)."""
    if view is None or not (view.fresh or view.stale):
        return None
    evicted = sum(len(images & desired.nodes[node].image_set)
                  for node, images in view.evicted.items() if node in desired.nodes)
    disk = sum(1 for d in deferred if d.reason.startswith("disk: "))
    return view.summary(len(desired.nodes), evicted, disk)


def _desire(fleet: Fleet, nodes: list[NodeFacts], resolved: DesiredState | None = None) -> DesiredState:
    """Step 1. Reads the fleet and the nodes; returns what each node must hold. Raises
    EmptyDesiredState when nothing is desired and the fleet does not allow it."""
    desired = resolved if resolved is not None else desired_state(fleet, nodes)
    if desired.pairs == 0 and not fleet.allow_empty:
        what = "desires no image" if not fleet.distinct_images else "selects no edge node"
        raise EmptyDesiredState(
            f"the revision {what}; refusing to plan an empty desired state "
            "(set allowEmpty: true in FleetConfig to allow it)"
        )
    return desired


@dataclass(frozen=True, slots=True)
class _Judged:
    """What step 3 decided of the live managed jobs: the finished ones (collected later, once
    their evidence is recorded), deletions of obsolete and stuck ones, the names of the stuck
    ones (their silent nodes are charged a failure), and per node the images in flight."""

    finished: list[ManagedJob]
    deletions: list[JobDeletion]
    stuck: frozenset[str]
    in_flight: dict[str, set[str]]


def _judge(live: list[ManagedJob], wanted: Mapping[str, frozenset[str]], *, now: datetime,
           settings: PlannerSettings) -> _Judged:
    """Step 3. Reads the live managed jobs and what each node desires; returns `_Judged`."""
    finished: list[ManagedJob] = []
    deletions: list[JobDeletion] = []
    stuck: set[str] = set()
    in_flight: dict[str, set[str]] = defaultdict(set)
    for managed in live:
        name, reading = managed.job.name, managed.reading
        if reading.finished:
            finished.append(managed)
        elif obsolete(reading, wanted):
            deletions.append(JobDeletion(name, OBSOLETE, managed.group))
        elif (reason := stuck_reason(managed, now=now, settings=settings)) is not None:
            stuck.add(name)
            deletions.append(JobDeletion(name, reason, managed.group))
        else:
            for node in reading.silent_nodes:
                in_flight[node].update(reading.images)
    return _Judged(finished, deletions, frozenset(stuck), in_flight)


def _revisit(live: list[ManagedJob], deletions: list[JobDeletion], retries: list[datetime], *,
             now: datetime, settings: PlannerSettings) -> datetime | None:
    """Last step. Reads the jobs that stay and the retry times; returns the earliest future time
    at which the same inputs would plan differently (None: nothing is scheduled)."""
    deleted = {d.name for d in deletions}
    due = [due_at(m, settings=settings) for m in live if m.job.name not in deleted]
    return min((t for t in (*due, *retries) if t > now), default=None)


def _read_jobs(
    jobs: Iterable[JobFacts],
) -> tuple[list[tuple[JobFacts, JobReading, bool]], list[ManagedJob]]:
    """Step 2. Reads every job; returns each with its reading and whether edgefleet manages it
    (oldest first), and the managed jobs not being deleted."""
    readings: list[tuple[JobFacts, JobReading, bool]] = []
    live: list[ManagedJob] = []
    for job in sorted(jobs, key=lambda j: (job_created(j), j.name)):
        reading = read_job(job)
        managed = job.metadata.labels.get(MANAGED_BY_LABEL) == MANAGED_BY_VALUE
        readings.append((job, reading, managed))
        if managed and job.metadata.deletion_timestamp is None:
            live.append(ManagedJob(job, reading))
    return readings, live


@dataclass(frozen=True, slots=True)
class _Recorded:
    """What step 4 made of the evidence: the new inventory status per node, the updates that
    differ from what is observed, and per job the evidence it carries per node."""

    statuses: dict[str, InventoryStatus]
    updates: list[InventoryUpdate]
    by_job: dict[str, dict[str, JobEvidence]]
    view: AgentView | None = None  # with the evicted pairs found


def _record(
    readings: list[tuple[JobFacts, JobReading, bool]],
    stuck: frozenset[str],
    observed: Mapping[str, InventoryFacts],
    desired: DesiredState,
    wanted: Mapping[str, frozenset[str]],
    nodes: list[NodeFacts],
    *,
    now: datetime,
    settings: PlannerSettings,
    view: AgentView | None = None,
) -> _Recorded:
    """Step 4. Reads the job readings (stuck jobs' silent nodes count as failed), the observed
    EdgeNodeInventory objects, what nodes desire (`wanted`: their image sets) and report;
    returns `_Recorded`.

    Nodes absent from `nodes` are left as observed: a partial list, or a node re-registering,
    must not make edgefleet forget what it knows (docs/design.md §3)."""
    evidence = align_evidence(collect_evidence(readings, stuck), wanted)
    start = observed  # the statuses to start from: a fresh agent report overrides the
    if view is not None:  # confirmations it contradicts (the update is against `observed`)
        view, evidence, start = forget_evicted(view, evidence, observed)
    reported = {n.name: n.images for n in nodes}
    retry = settings.retry
    statuses: dict[str, InventoryStatus] = {}
    updates: list[InventoryUpdate] = []
    empty: frozenset[str] = frozenset()
    for node in sorted(set(evidence) | set(observed)):
        inventory, begin = observed.get(node), start.get(node)
        held = reported.get(node)
        if held is None:
            if begin is not None:
                statuses[node] = begin.status
            continue
        desire = desired.nodes.get(node)
        status = next_status(
            begin.status if begin else None, evidence.get(node, ()),
            desired=desire.image_set if desire else empty, reported=held,
            now=now, retry=retry, pulled_with=desire.pulled_with if desire else {},
        )
        statuses[node] = status
        update = inventory_update(node, inventory, status)
        if update is not None:
            updates.append(update)
    by_job: dict[str, dict[str, JobEvidence]] = defaultdict(dict)
    for node, items in evidence.items():
        for item in items:
            by_job[item.job][node] = item
    return _Recorded(statuses, updates, by_job, view)


@dataclass(frozen=True, slots=True)
class _Shape:
    """Per signature: the images of active (not suspended) groups, split by job key."""

    active: frozenset[str]
    keys: tuple[tuple[JobKey, frozenset[str]], ...]


def _shape(desire: NodeDesire, suspended: Mapping[str, bool]) -> _Shape:
    buckets: dict[JobKey, set[str]] = defaultdict(set)
    for image, item in desire.images.items():
        if not suspended.get(item.group, False):
            buckets[(item.group, item.secret or "", item.policy)].add(image)
    keys = tuple((key, frozenset(images)) for key, images in buckets.items())
    return _Shape(active=frozenset().union(*(images for _, images in keys)), keys=keys)


@dataclass(frozen=True, slots=True)
class _Classified:
    """The plannable pairs as jobs.Work, their records (node -> image -> failure record), deferrals,
    suspects (nodes with work whose newest failure was silence after dispatch: they get jobs of
    their own) and the times at which backing-off pairs fall due."""

    work: dict[JobKey, dict[frozenset[str], list[tuple[frozenset[str], str]]]]
    history: dict[str, dict[str, InventoryFailure]]
    deferred: list[Deferral]
    suspects: set[str]
    retries: list[datetime]


def _classify(
    desired: DesiredState,
    nodes: list[NodeFacts],
    statuses: Mapping[str, InventoryStatus],
    in_flight: Mapping[str, set[str]],
    tally: Tally,
    *,
    suspended: Mapping[str, bool],
    now: datetime,
    settings: PlannerSettings,
    view: AgentView | None = None,
    absent_into: dict[str, tuple[str, ...]] | None = None,
) -> _Classified:
    """Step 6. Reads what each node desires and reports, the new inventory statuses and the
    images in flight; counts every desired pair in `tally` and returns the plannable ones, the
    deferrals, the suspects and the retry times (`_Classified`). Step 7 (`jobs.cut_jobs`) cuts
    the plannable pairs into jobs."""
    cap = settings.image_cap if settings.image_cap is not None else infer_image_cap(nodes)
    limit = settings.attempt_limit
    by_name = {n.name: n for n in nodes}
    work: dict[JobKey, dict[frozenset[str], list[tuple[frozenset[str], str]]]] = defaultdict(
        lambda: defaultdict(list))
    history: dict[str, dict[str, InventoryFailure]] = {}
    deferred: list[Deferral] = []
    suspects: set[str] = set()
    retries: list[datetime] = []
    shapes: dict[tuple[str, ...], _Shape] = {}
    nothing: frozenset[str] = frozenset()
    for name, desire in desired.nodes.items():
        node = by_name[name]
        status = statuses.get(name)
        present = node.images
        if view is not None and view.complete(name):
            present = view.present(name, node.images, status)
        elif status is not None and status.images:
            present = present | {i.image for i in status.images}
        absent = desire.image_set - present
        if absent and desire.aliases:
            absent = absent - {i for i, name in desire.aliases if name in present}
        if not absent:
            tally.all_present(desire)
            continue
        if absent_into is not None:
            absent_into[name] = tuple(sorted(absent))  # a tuple of str: untracked by the GC
        flying = absent & frozenset(in_flight[name]) if name in in_flight else nothing
        backing: set[str] = set()
        failed: set[str] = set()
        if status is not None and status.failures:
            for record in status.failures:
                if record.image not in absent or record.image in flying:
                    continue
                history.setdefault(name, {})[record.image] = record
                if record.attempts >= limit:
                    failed.add(record.image)
                elif now < (retry_at := parse_time(record.retry_after)):
                    backing.add(record.image)
                    retries.append(retry_at)
        todo = absent - flying - backing - failed
        tally.node(desire, absent=absent, flying=flying, backing=backing, failed=failed,
                   todo=todo, truncated=list_truncated(node, cap) and not (view and view.complete(name)))
        shape = shapes.get(desire.groups)
        if shape is None:
            shape = shapes[desire.groups] = _shape(desire, suspended)
        plannable = todo & shape.active
        if not plannable:
            continue
        if not node.ready:
            # Deferred, not targeted: KubeEdge counts NotReady nodes as failed (burning the
            # failure budget) and v1alpha2 may wedge waiting for them (kubeedge#7049).
            deferred.append(Deferral(name, NOT_READY.format(n=len(plannable))))
            tally.deferred(desire, plannable)
            continue
        if view is not None and (disk := view.disk_deferral(name, plannable)) is not None:
            deferred.append(Deferral(name, disk))
            tally.deferred(desire, plannable)
            continue
        if status is not None and went_silent(status):
            suspects.add(name)
        blocked = flying | backing | failed
        for key, key_images in shape.keys:
            missing = plannable & key_images if len(shape.keys) > 1 else plannable
            if missing:
                allowed = key_images - blocked if blocked else key_images
                work[key][allowed].append((missing, name))
    return _Classified(work, history, deferred, suspects, retries)
