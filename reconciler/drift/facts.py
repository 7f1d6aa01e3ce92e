"""Plan + facts -> drifting pairs: the pure input of `aggregate.build_report` (no I/O, no clock).

The reasons are read off the plan the cycle already made, so a report never disagrees with the
plan: a pair the plan targets with a new job is `not-yet-planned` (planned by this sync), a pair
of a node the plan defers is `deferred-offline` (or `deferred-disk`), a pair whose inventory
failure record reached the attempt limit is `failed`, one still in its backoff `backing-off`,
a pair of a suspended group `suspended-group`, a pair the group's rollout holds back gets the
gate's reason (`waiting-wave`, `waiting-window`, `waiting-bandwidth`, `halted`, `paused`), a pair
absent from a node list cut at the cap `unknown-inventory`, and what is left is covered by a live
job: `in-flight`.

`missingSince` is carried across runs by the caller: `previous` maps (node, image) to the time
the pair was first seen missing, and the result gives the new map (pairs present again drop
out, new pairs start at `now`), which the caller stores (reconciler.drift.history).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Set
from dataclasses import dataclass
from datetime import datetime
from itertools import repeat

from reconciler.desired import DesiredState
from reconciler.drift.columns import PairColumns
from reconciler.drift.reasons import Reason
from reconciler.drift.registry_holds import held_pairs
from reconciler.drift.report import GroupTotals, PairDetail
from reconciler.inventory.records import parse_time
from reconciler.observed.cluster import ClusterFacts
from reconciler.observed.inventories import InventoryFailure, InventoryStatus
from reconciler.planner.model import Plan

PairKey = tuple[str, str]  # (node, image)


@dataclass(frozen=True, slots=True)
class DriftFacts:
    """The report's input: drifting pairs, per-group totals and the new missingSince memory."""

    pairs: PairColumns  # a Sequence[DriftPair], sorted by (node, image)
    groups: tuple[GroupTotals, ...]
    missing_since: Mapping[PairKey, datetime]


def drift_facts(
    plan: Plan,
    desired: DesiredState,
    facts: ClusterFacts,
    *,
    now: datetime,
    previous: Mapping[PairKey, datetime] | None = None,
    attempt_limit: int = 5,
    truncated: Iterable[str] = (),
) -> DriftFacts:
    """The drifting pairs of `plan` (made from `desired` and `facts` at `now`).

    `previous` is the missingSince memory of the last report; `truncated` names the nodes whose
    image list may be cut at its cap. Pure; the result is sorted by (node, image).
    """
    previous = previous or {}
    remembered = previous.get
    statuses: dict[str, InventoryStatus] = {inv.name: inv.status for inv in facts.inventories}
    statuses.update((u.node, u.status) for u in plan.inventory_updates)
    planned: dict[str, set[str]] = {}
    for job in plan.create:
        for node_name in job.node_names:
            planned.setdefault(node_name, set()).update(job.images)
    deferred = {d.node: d.reason for d in plan.deferred}
    gates = {(g.node, g.group): Reason(g.reason) for g in plan.gated}  # docs/rollout.md
    cut = frozenset(truncated)
    by_name = {n.name: n for n in facts.nodes}
    pairs = PairColumns()
    append = pairs.append
    nothing: frozenset[str] = frozenset()
    gated_nodes = {node for node, _ in gates}
    holds = held_pairs(plan)  # docs/registry.md: not-in-registry, no-platform per (node, image)
    gated_nodes.update(node for node, _ in holds)  # such nodes take the per-pair path below
    # Per shared NodeDesire (one per signature, not per node): image -> owning group, and
    # whether any of its images is suspended (such nodes take the per-pair path below).
    owners: dict[int, tuple[dict[str, str], bool]] = {}
    for name in sorted(desired.nodes):
        desire = desired.nodes[name]
        status = statuses.get(name)
        node = by_name.get(name)
        held: frozenset[str] = node.images if node is not None else nothing
        reported = {i.image for i in status.images} if status is not None else nothing
        missing = desire.image_set - held - reported if reported else desire.image_set - held
        if desire.aliases and missing:
            present = held | reported
            missing -= {image for image, alias in desire.aliases if alias in present}
        if not missing:
            continue
        failures = {f.image: f for f in status.failures} if status is not None else {}
        node_planned = planned.get(name, nothing)
        deferral = deferred.get(name)
        # The reason of a pair without suspension, failure record or new job: the node's own.
        usual, _ = _reason((name, ""), False, None, nothing, deferral, name in cut,
                           now=now, attempt_limit=attempt_limit)
        owned = owners.get(id(desire))
        if owned is None:
            owned = owners[id(desire)] = (
                {image: item.group for image, item in desire.images.items()},
                any(item.suspended for item in desire.images.values()))
        group_of, any_suspended = owned
        images = sorted(missing)
        sinces = (list(map(remembered, zip(repeat(name), images), repeat(now))) if previous
                  else [now] * len(images))
        if not (failures or any_suspended or name in gated_nodes):
            # The common node: every pair's reason is the node's own or not-yet-planned.
            count = len(images)
            pairs.nodes.extend(repeat(name, count))
            pairs.groups.extend(map(group_of.__getitem__, images))
            pairs.images.extend(images)
            if node_planned and not node_planned.issuperset(images):
                pairs.reasons.extend([Reason.NOT_YET_PLANNED if image in node_planned else usual
                                      for image in images])
            else:
                pairs.reasons.extend(repeat(Reason.NOT_YET_PLANNED if node_planned else usual, count))
            pairs.since.extend(sinces)
            pairs.details.extend(repeat(None, count))
            continue
        for image, since in zip(images, sinces, strict=True):
            key = (name, image)
            item = desire.images[image]
            failure = failures.get(image) if failures else None
            gate = gates.get((name, item.group)) if gates else None
            if key in holds:  # held by the plan: the registry's answer, even beside a due retry
                reason, detail = holds[key], None
            elif item.suspended or failure is not None or gate is not None:
                reason, detail = _reason(key, item.suspended, failure, node_planned, deferral,
                                         name in cut, now=now, attempt_limit=attempt_limit, gate=gate)
            else:
                reason, detail = (Reason.NOT_YET_PLANNED if image in node_planned else usual), None
            append(name, item.group, image, reason, since, detail)
    groups = tuple(
        GroupTotals(g.group, g.counts.pairs_desired, g.counts.pairs_present, g.suspended)
        for g in plan.groups
    )
    # The new memory in one C-level pass: every drifting pair, first seen at its `since`.
    since_map = dict(zip(zip(pairs.nodes, pairs.images, strict=True), pairs.since, strict=True))
    return DriftFacts(pairs, groups, since_map)


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
