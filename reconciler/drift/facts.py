"""Plan + facts -> drifting pairs: the pure input of `aggregate.build_report` (no I/O, no clock).

The reasons are read off the plan the cycle already made, so a report never disagrees with the
plan: a pair the plan targets with a new job is `not-yet-planned` (planned by this sync), a pair
of a node the plan defers is `deferred-offline` (or `deferred-disk`), a pair whose inventory
failure record reached the attempt limit is `failed`, one still in its backoff `backing-off`,
a pair of a suspended group `suspended-group`, a pair the group's rollout holds back gets the
gate's reason (`waiting-wave`, `waiting-window`, `waiting-bandwidth`, `halted`, `paused`), a pair
absent from a node list cut at the cap `unknown-inventory`, and what is left is covered by a live
job: `in-flight`.

`missingSince` is carried across runs by the caller: `previous` is the memory of the last
report (a MissingSince, or any mapping of (node, image) to the time the pair was first seen
missing), and the result gives the new memory (pairs present again drop out, new pairs start at
`now`), which the caller stores (reconciler.drift.history). Pairs come out as one NodeRun per
node (reconciler.drift.runs): a node's usual pairs share one reason and one since, so the work
is per node, not per pair.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Set
from dataclasses import dataclass
from datetime import datetime

from reconciler.desired import DesiredState, NodeDesire
from reconciler.drift.memory import MissingSince, PairKey, since_of
from reconciler.drift.reasons import Reason
from reconciler.drift.registry_holds import held_pairs
from reconciler.drift.report import GroupTotals, PairDetail
from reconciler.drift.runs import NodeRun, PairRuns, one_or_each
from reconciler.inventory.records import parse_time
from reconciler.observed.cluster import ClusterFacts
from reconciler.observed.inventories import InventoryFailure, InventoryStatus
from reconciler.observed.nodes import NodeFacts
from reconciler.planner.model import Plan

__all__ = ["DriftFacts", "PairKey", "drift_facts"]


@dataclass(frozen=True, slots=True)
class DriftFacts:
    """The report's input: drifting pairs, per-group totals and the new missingSince memory."""

    pairs: PairRuns  # a Sequence[DriftPair], sorted by (node, image)
    groups: tuple[GroupTotals, ...]
    missing_since: MissingSince


def drift_facts(
    plan: Plan,
    desired: DesiredState,
    facts: ClusterFacts,
    *,
    now: datetime,
    previous: Mapping[PairKey, datetime] | None = None,
    attempt_limit: int = 5,
    truncated: Iterable[str] = (),
    absent: Mapping[str, tuple[str, ...]] | None = None,
) -> DriftFacts:
    """The drifting pairs of `plan` (made from `desired` and `facts` at `now`).

    `previous` is the missingSince memory of the last report; `truncated` names the nodes whose
    image list may be cut at its cap; `absent` is each node's absent images as the plan found
    them (`plan_revision(absent_into=...)`; None: found here from the facts). Pure; the result
    is sorted by (node, image).
    """
    memory = MissingSince.of(previous) if previous else MissingSince()
    statuses: dict[str, InventoryStatus] = {inv.name: inv.status for inv in facts.inventories}
    statuses.update((u.node, u.status) for u in plan.inventory_updates)
    planned: dict[str, frozenset[str]] = {}
    for job in plan.create:
        job_images = frozenset(job.images)
        for node_name in job.node_names:
            known = planned.get(node_name)
            planned[node_name] = job_images if known is None else known | job_images
    deferred = {d.node: d.reason for d in plan.deferred}
    gates = {(g.node, g.group): Reason(g.reason) for g in plan.gated}  # docs/rollout.md
    cut = frozenset(truncated)
    runs: list[NodeRun] = []
    nothing: frozenset[str] = frozenset()
    gated_nodes = {node for node, _ in gates}
    holds = held_pairs(plan)  # docs/registry.md: not-in-registry, no-platform per (node, image)
    gated_nodes.update(node for node, _ in holds)  # such nodes take the per-pair path below
    owners: dict[int, _Owners] = {}  # per shared NodeDesire (one per signature, not per node)
    recall = memory.by_node.get
    found = (_missing(desired, {n.name: n for n in facts.nodes}, statuses) if absent is None
             else ((name, desired.nodes[name], images) for name, images in sorted(absent.items())))
    for name, desire, images in found:
        status = statuses.get(name)
        owned = owners.get(id(desire))
        if owned is None:
            owned = owners[id(desire)] = _Owners(desire)
        memo = recall(name)
        since = now if memo is None else since_of(memo, images, now)
        group = owned.group if owned.group is not None else one_or_each([owned.group_of[i] for i in images])
        node_planned = planned.get(name, nothing)
        deferral = deferred.get(name)
        # The reason of a pair without suspension, failure record or new job: the node's own.
        if deferral is not None:
            usual = Reason.DEFERRED_DISK if "disk" in deferral else Reason.DEFERRED_OFFLINE
        else:
            usual = Reason.UNKNOWN_INVENTORY if name in cut else Reason.IN_FLIGHT
        failures = {f.image: f for f in status.failures} if status is not None and status.failures else None
        if not (failures or owned.any_suspended or name in gated_nodes):
            # The common node: every pair's reason is the node's own or not-yet-planned.
            if not node_planned:
                reason: Reason | tuple[Reason, ...] = usual
            elif node_planned.issuperset(images):
                reason = Reason.NOT_YET_PLANNED
            else:
                reason = one_or_each([Reason.NOT_YET_PLANNED if image in node_planned else usual
                                      for image in images])
            runs.append(NodeRun(name, images, group, reason, since))
            continue
        reasons: list[Reason] = []
        details: list[PairDetail | None] = []
        for image in images:
            item = desire.images[image]
            failure = failures.get(image) if failures else None
            gate = gates.get((name, item.group)) if gates else None
            if (name, image) in holds:  # held by the plan: the registry's answer, even beside a due retry
                why, detail = holds[(name, image)], None
            elif item.suspended or failure is not None or gate is not None:
                why, detail = _reason((name, image), item.suspended, failure, node_planned, deferral,
                                      name in cut, now=now, attempt_limit=attempt_limit, gate=gate)
            else:
                why, detail = (Reason.NOT_YET_PLANNED if image in node_planned else usual), None
            reasons.append(why)
            details.append(detail)
        runs.append(NodeRun(name, images, group, one_or_each(reasons), since,
                            tuple(details) if any(d is not None for d in details) else None))
    groups = tuple(
        GroupTotals(g.group, g.counts.pairs_desired, g.counts.pairs_present, g.suspended)
        for g in plan.groups
    )
    # The new memory is the runs themselves: each holds its node's images and their since.
    return DriftFacts(PairRuns(runs), groups, MissingSince({run.node: run for run in runs}))


def _missing(desired: DesiredState, by_name: Mapping[str, NodeFacts],
             statuses: Mapping[str, InventoryStatus]) -> Iterator[tuple[str, NodeDesire, tuple[str, ...]]]:
    """(node, desire, sorted absent images) of every node missing some desired image, by node."""
    nothing: frozenset[str] = frozenset()
    for name, desire in sorted(desired.nodes.items()):
        status = statuses.get(name)
        node = by_name.get(name)
        held: frozenset[str] = node.images if node is not None else nothing
        reported = {i.image for i in status.images} if status is not None and status.images else nothing
        missing = desire.image_set - held - reported if reported else desire.image_set - held
        if desire.aliases and missing:
            present = held | reported
            missing -= {image for image, alias in desire.aliases if alias in present}
        if missing:
            yield name, desire, tuple(sorted(missing))


class _Owners:
    """Of one shared NodeDesire: image -> owning group, the one owner when there is one, and
    whether any image is suspended (such nodes take the per-pair path)."""

    __slots__ = ("any_suspended", "group", "group_of")

    def __init__(self, desire: NodeDesire) -> None:
        self.group_of = {image: item.group for image, item in desire.images.items()}
        owners = set(self.group_of.values())
        self.group: str | None = owners.pop() if len(owners) == 1 else None
        self.any_suspended = any(item.suspended for item in desire.images.values())


def _reason(
    key: PairKey, suspended: bool, failure: InventoryFailure | None, planned: Set[str],
    deferral: str | None, truncated: bool, *, now: datetime, attempt_limit: int,
    gate: Reason | None = None,
) -> tuple[Reason, PairDetail | None]:
    """The one reason of a missing pair; the order is the planner's (suspension first)."""
    if suspended:
        return Reason.SUSPENDED_GROUP, None
    if failure is not None and failure.attempts > 0:
        detail = PairDetail(attempt=failure.attempts, attempt_limit=attempt_limit,
                            last_error=failure.last_error or None)
        if failure.attempts >= attempt_limit:
            return Reason.FAILED, detail
        retry_at = parse_time(failure.retry_after)
        if now < retry_at and key[1] not in planned:
            return Reason.BACKING_OFF, PairDetail(
                attempt=failure.attempts, attempt_limit=attempt_limit, next_retry_at=retry_at,
                last_error=failure.last_error or None)
    if key[1] in planned:
        return Reason.NOT_YET_PLANNED, None
    if deferral is not None:
        return (Reason.DEFERRED_DISK if "disk" in deferral else Reason.DEFERRED_OFFLINE), None
    if gate is not None:  # the rollout holds the node back: no job targets it now
        return gate, None
    if truncated:
        return Reason.UNKNOWN_INVENTORY, None
    return Reason.IN_FLIGHT, None
