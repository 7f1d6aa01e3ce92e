"""The rollout gate of a plan: which nodes may get new jobs of each group now. Pure.

For every group with a rollout policy (docs/rollout.md), in this order, a node with missing
images of the group gets no job when the rollout is halted (`halted`) or paused (`paused`),
its wave is not open yet (`waiting-wave`), no maintenance window is open (`waiting-window`),
or its site already pulls on as many nodes as `bandwidth` allows (`waiting-bandwidth`: nodes
of earlier waves, then lower points, go first). Running jobs are never touched: a closing
window or a halt only stops new ones. Groups without a policy pass through unchanged.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from reconciler.desired import DesiredState
from reconciler.inventory import parse_time
from reconciler.manifests.fleet import Fleet, NodeGroupSpec
from reconciler.manifests.rollout_policy import RolloutPolicy
from reconciler.observed.inventories import InventoryStatus
from reconciler.observed.nodes import NodeFacts
from reconciler.observed.rollouts import RolloutFacts
from reconciler.planner.jobs import JobKey
from reconciler.planner.rollout.model import Gated, GateReason, RolloutStatus, iso
from reconciler.planner.rollout.progress import WaveCounts, progress
from reconciler.planner.rollout.waves import assign_waves, place_late_joiners, rollout_id, wave_count
from reconciler.planner.rollout.windows import inside_window, next_opening

Work = dict[JobKey, dict[frozenset[str], list[tuple[frozenset[str], str]]]]


@dataclass(frozen=True, slots=True)
class RolloutGate:
    """The work that may become jobs now, the gated (node, group) pairs with their reason, the
    new rollout status per gated group, and the earliest time a gate lifts by itself."""

    work: Work
    gated: tuple[Gated, ...] = ()
    rollouts: tuple[RolloutStatus, ...] = ()
    revisit_at: datetime | None = None


def gate_work(fleet: Fleet, desired: DesiredState, nodes: Sequence[NodeFacts],
              statuses: Mapping[str, InventoryStatus], in_flight: Mapping[str, set[str]],
              work: Work, *, records: Mapping[str, RolloutFacts], now: datetime) -> RolloutGate:
    """Gate `work` (key -> allowed set -> [(missing, node)]) by each group's rollout policy.
    `statuses` are this pass's inventory statuses, `in_flight` node -> images of running jobs,
    `records` the FleetRollout facts by group."""
    groups = [g for g in fleet.groups if g.rollout is not None and not g.suspend]
    if not groups:
        return RolloutGate(work)
    by_name = {n.name: n for n in nodes}
    candidates: dict[str, set[str]] = {g.name: set() for g in groups}
    for (owner, _, _), buckets in work.items():
        if owner in candidates:
            candidates[owner].update([node for entries in buckets.values() for _, node in entries])
    admitted: dict[str, set[str]] = {}
    gated: list[Gated] = []
    rollouts: list[RolloutStatus] = []
    revisits: list[datetime] = []
    for group in groups:
        policy = group.rollout
        assert policy is not None
        status, allowed, reasons, revisit = _gate_group(
            group, policy, desired, by_name, statuses, in_flight, candidates[group.name],
            records.get(group.name), now=now)
        rollouts.append(status)
        admitted[group.name] = allowed
        gated.extend(Gated(node, group.name, reason) for node, reason in reasons.items())
        if revisit is not None:
            revisits.append(revisit)
    kept: Work = {}
    for key, buckets in work.items():
        allowed_nodes = admitted.get(key[0])
        if allowed_nodes is None:
            kept[key] = buckets
            continue
        filtered = {a: [e for e in entries if e[1] in allowed_nodes] for a, entries in buckets.items()}
        if any(filtered.values()):
            kept[key] = {a: entries for a, entries in filtered.items() if entries}
    gated.sort()  # NamedTuples: by node, then group (one reason per pair)
    return RolloutGate(kept, tuple(gated), tuple(rollouts), min(revisits, default=None))


def _members(group: NodeGroupSpec, policy: RolloutPolicy, rollout: str, desired: DesiredState,
             by_name: Mapping[str, NodeFacts],
             ) -> tuple[dict[str, frozenset[str]], dict[str, tuple[int, int]]]:
    """The nodes the group owns images on (with those images), and their (wave, point)."""
    owned: dict[str, frozenset[str]] = {}
    mine: dict[int, frozenset[str] | None] = {}  # NodeDesire values are shared per signature
    nodes_get = desired.nodes.get
    for name in desired.group_nodes.get(group.name, ()):
        desire = nodes_get(name)
        if desire is None:
            continue
        key = id(desire)
        if key in mine:
            images = mine[key]
        else:
            images = mine[key] = dict(desire.by_group).get(group.name)
        if images:
            owned[name] = images
    return owned, assign_waves(policy, rollout, [(n, by_name[n].labels) for n in owned])


def _counter(members: list[list[str]], owned: Mapping[str, frozenset[str]],
             by_name: Mapping[str, NodeFacts],
             statuses: Mapping[str, InventoryStatus]) -> Callable[[int], WaveCounts]:
    """Counts of one wave's nodes (done, failed, settled), computed only for the waves the
    rollout reaches: most nodes of a large group sit in waves not open yet."""

    def count(wave: int) -> WaveCounts:
        done = failed = settled = 0
        for name in members[wave]:
            images, node, status = owned[name], by_name[name], statuses.get(name)
            absent = not images <= node.images
            lost = False
            if absent and status is not None:
                missing = images - node.images
                if status.images:
                    missing = missing - {i.image for i in status.images}
                absent = bool(missing)
                lost = absent and any(f.image in missing and f.attempts > 0 for f in status.failures)
            done += not absent
            failed += lost
            settled += (not absent) or lost or not node.ready
        return WaveCounts(done, failed, settled)

    return count


def _gate_group(group: NodeGroupSpec, policy: RolloutPolicy, desired: DesiredState,
                by_name: Mapping[str, NodeFacts], statuses: Mapping[str, InventoryStatus],
                in_flight: Mapping[str, set[str]], candidates: set[str],
                record: RolloutFacts | None, *, now: datetime,
                ) -> tuple[RolloutStatus, set[str], dict[str, GateReason], datetime | None]:
    rollout = rollout_id(group)
    owned, waves = _members(group, policy, rollout, desired, by_name)
    if record is not None and record.status.rollout_id == rollout and record.status.started:
        current = min(record.status.wave, wave_count(policy) - 1)
        place_late_joiners(waves, lambda n: by_name[n].created,
                           started=parse_time(record.status.started), current=current)
    members: list[list[str]] = [[] for _ in range(wave_count(policy))]
    for name, (wave, _) in waves.items():
        members[wave].append(name)
    count = _counter(members, owned, by_name, statuses)
    status = progress(group.name, policy, rollout, [len(m) for m in members], count, record, now=now)
    reasons: dict[str, GateReason] = {}
    open_now: list[str] = []
    window_open = inside_window(policy.windows, now)
    for node in candidates:
        where = waves.get(node)
        if where is None:
            continue  # another group owns every image it misses of this key: not ours to gate
        if status.halted:
            reasons[node] = "halted"
        elif status.paused:
            reasons[node] = "paused"
        elif where[0] > status.wave:
            reasons[node] = "waiting-wave"
        elif not window_open:
            reasons[node] = "waiting-window"
        else:
            open_now.append(node)
    allowed = _bandwidth(policy, open_now, waves, by_name, in_flight, reasons)
    revisit = status.next_at
    if any(r == "waiting-window" for r in reasons.values()):
        opening = next_opening(policy.windows, now)
        revisit = min(t for t in (revisit, opening) if t is not None) if opening or revisit else None
        # Say why nothing starts (the status, `rollout status` and the plan show it).
        when = f"the next opens at {iso(opening)}" if opening else "none is scheduled"
        status = replace(status, next_step=f"waiting for a maintenance window: {when}",
                         next_at=revisit)
    return status, allowed | (candidates - waves.keys()), reasons, revisit


def _bandwidth(policy: RolloutPolicy, open_now: list[str], waves: Mapping[str, tuple[int, int]],
               by_name: Mapping[str, NodeFacts],
               in_flight: Mapping[str, set[str]], reasons: dict[str, GateReason]) -> set[str]:
    """The nodes of `open_now` that may start pulling; the rest get `waiting-bandwidth`."""
    if policy.bandwidth is None:
        return set(open_now)
    label, limit = policy.bandwidth.site_label, policy.bandwidth.max_per_site
    busy = Counter(by_name[n].labels.get(label, "") for n, images in in_flight.items()
                   if images and n in by_name)
    allowed: set[str] = set()
    for node in sorted(open_now, key=lambda n: (waves[n], n)):
        site = by_name[node].labels.get(label, "")
        if busy[site] < limit:
            busy[site] += 1
            allowed.add(node)
        else:
            reasons[node] = "waiting-bandwidth"
    return allowed
