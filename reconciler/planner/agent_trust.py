"""How the planner trusts the edge agents' reports (`status.agent`, docs/agent.md). PURE.

A *fresh* report (`complete`, `observedAt` no older than `stale_after` at the plan's `now`) is
the node's whole image store, so for that node:

- an image the report lists is present, and a desired image it does not list is *missing*
  (planned and counted as missing), never *unknown*: the kubelet's capped list does not matter;
- an image a job once confirmed (`status.images`, stamped when it was recorded) that the report,
  taken after that confirmation, no longer lists was removed on the edge (image GC, `crictl
  rmi`): it is *evicted*. Its confirmation is forgotten (so the inventory stops claiming it, and
  an old job's evidence does not re-confirm it) and it is planned again. A confirmation newer
  than the report wins: the report was taken before the pull landed;
- with the image filesystem's capacity and usage known, a node is not sent more bytes (of images
  whose size some fresh report gives, else the registry's size for the node's platform when
  planning with registry facts: planner/registry_disk.py) than it has free below the image GC
  high threshold: pulling them would make the kubelet's GC evict other images; the node is
  deferred with `disk: ...` as the reason.

A stale report (or none) changes nothing: the node is planned from job evidence and node status
as before, and the plan says which nodes' reports are stale. Time is the caller's `now`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import msgspec

from reconciler.inventory import JobEvidence, parse_time
from reconciler.inventory.evidence import EPOCH
from reconciler.observed.inventories import AgentStatus, InventoryFacts, InventoryStatus

DEFAULT_STALE_AFTER = timedelta(hours=2)
DEFAULT_GC_HIGH_PERCENT = 85.0
DISK_REASON = ("disk: {n} image(s) need {need} but only {free} is free below the {pct:g}% image GC "
               "threshold (agent report)")  # sizes: agent reports, else registry (registry_disk.py)
STALE_WARNING = ("{n} node(s) have an agent report older than {age} ({nodes}): they are planned "
                 "from job evidence and node status, as without an agent")


@dataclass(frozen=True, slots=True)
class AgentTrust:
    """Settings: how old a report may be and still be trusted (`stale_after`), and the kubelet's
    imageGCHighThresholdPercent the disk rule keeps nodes below (`gc_high_percent`)."""

    stale_after: timedelta = DEFAULT_STALE_AFTER
    gc_high_percent: float = DEFAULT_GC_HIGH_PERCENT


@dataclass(frozen=True, slots=True)
class NodeReport:
    """A fresh report of one node: the references it holds, when it was taken, and the bytes it
    may still receive below the GC high threshold (None: capacity or usage unknown)."""

    held: frozenset[str]
    observed_at: datetime
    free_bytes: int | None


@dataclass(frozen=True, slots=True)
class AgentView:
    """The fleet's agent reports at one `now`: fresh ones by node, stale node names, image sizes
    (any fresh report's figure), and the pairs found evicted (filled by `forget_evicted`)."""

    trust: AgentTrust
    fresh: Mapping[str, NodeReport]
    stale: tuple[str, ...]
    sizes: Mapping[str, int]
    evicted: Mapping[str, frozenset[str]] = field(default_factory=dict)
    # node -> image -> the registry's compressed bytes for the node's platform (registry_disk.py):
    # asked for images no fresh report sizes; nodes of one platform share one mapping.
    registry_sizes: Mapping[str, Mapping[str, int]] = field(default_factory=dict)

    def complete(self, node: str) -> bool:
        """Whether `node`'s inventory is known completely (a fresh report)."""
        return node in self.fresh

    def present(self, node: str, reported: frozenset[str], status: InventoryStatus | None) -> frozenset[str]:
        """What a node with a fresh report holds: the report's references, the node status list,
        and confirmations newer than the report (see the module docstring)."""
        report = self.fresh[node]
        newer = {i.image for i in status.images
                 if parse_time(i.observed_at) > report.observed_at} if status else set()
        return report.held | reported | newer

    def disk_deferral(self, node: str, plannable: Iterable[str]) -> str | None:
        """The deferral reason when the known sizes of `plannable` exceed the node's free bytes
        below the GC threshold; None when they fit or nothing is known."""
        report = self.fresh.get(node)
        if report is None or report.free_bytes is None:
            return None
        registry = self.registry_sizes.get(node, {})
        known = [self.sizes[i] if i in self.sizes else registry[i] for i in plannable
                 if i in self.sizes or i in registry]
        need = sum(known)
        if not known or need <= report.free_bytes:
            return None
        return DISK_REASON.format(n=len(known), need=_bytes(need), free=_bytes(max(report.free_bytes, 0)),
                                  pct=self.trust.gc_high_percent)

    def summary(self, nodes: int, pairs_evicted: int, deferred_disk: int) -> dict[str, Any]:
        """The plan's `agent` section (camelCase)."""
        return {"nodesWithReport": len(self.fresh), "nodesStale": len(self.stale),
                "nodesWithoutReport": nodes - len(self.fresh) - len(self.stale),
                "pairsEvicted": pairs_evicted, "nodesDeferredDisk": deferred_disk,
                "staleAfter": _duration(self.trust.stale_after),
                "staleNodes": list(self.stale)}

    def warnings(self) -> tuple[str, ...]:
        """One line naming the nodes whose report is stale (at most five named)."""
        if not self.stale:
            return ()
        names = ", ".join(self.stale[:5]) + (", ..." if len(self.stale) > 5 else "")
        return (STALE_WARNING.format(n=len(self.stale), age=_duration(self.trust.stale_after),
                                     nodes=names),)


def read_reports(inventories: Iterable[InventoryFacts], *, now: datetime, trust: AgentTrust) -> AgentView:
    """Sort the agent reports into fresh and stale at `now`. A report is fresh when it says it
    is complete and its `observedAt` is at most `stale_after` old (a time in the future, a clock
    ahead of the planner's, counts as fresh)."""
    fresh: dict[str, NodeReport] = {}
    stale: list[str] = []
    sizes: dict[str, int] = {}
    for inventory in inventories:
        agent = inventory.status.agent
        if agent is None:
            continue
        observed = parse_time(agent.observed_at)
        if not agent.complete or observed == EPOCH or now - observed > trust.stale_after:
            stale.append(inventory.name)
            continue
        fresh[inventory.name] = NodeReport(frozenset(i.image for i in agent.images), observed,
                                           _free_bytes(agent, trust))
        for image in agent.images:
            if image.size_bytes > 0:
                sizes[image.image] = max(sizes.get(image.image, 0), image.size_bytes)
    return AgentView(trust, fresh, tuple(sorted(stale)), sizes)


def forget_evicted(view: AgentView, evidence: Mapping[str, list[JobEvidence]],
                   observed: Mapping[str, InventoryFacts]
                   ) -> tuple[AgentView, dict[str, list[JobEvidence]], dict[str, InventoryFacts]]:
    """Drop the confirmations a fresh report contradicts: from the observed statuses (their
    images confirmed no later than the report and absent from it) and, for those images, from
    the evidence of jobs created before the report. Returns the view with `evicted` set
    (node -> images), and the corrected evidence and observed objects."""
    evicted: dict[str, frozenset[str]] = {}
    fixed_observed = dict(observed)
    for node, report in view.fresh.items():
        inventory = observed.get(node)
        if inventory is None:
            continue
        gone = frozenset(i.image for i in inventory.status.images
                         if i.image not in report.held and parse_time(i.observed_at) <= report.observed_at)
        if gone:
            evicted[node] = gone
            status = msgspec.structs.replace(
                inventory.status, images=tuple(i for i in inventory.status.images if i.image not in gone))
            fixed_observed[node] = msgspec.structs.replace(inventory, status=status)
    fixed_evidence = {node: [_without(ev, evicted[node], view.fresh[node]) if node in evicted else ev
                             for ev in items] for node, items in evidence.items()}
    return replace(view, evicted=evicted), fixed_evidence, fixed_observed


def _without(ev: JobEvidence, gone: frozenset[str], report: NodeReport) -> JobEvidence:
    """A job created before the report cannot confirm again what was recorded before the report
    and what the report no longer holds: that pull is the one the edge undid. (A job created
    after the report, the re-pull, confirms as usual.)"""
    if ev.created > report.observed_at or ev.pulled.isdisjoint(gone):
        return ev
    return replace(ev, pulled=ev.pulled - gone)


def _free_bytes(agent: AgentStatus, trust: AgentTrust) -> int | None:
    capacity, used = agent.image_fs_capacity_bytes, agent.image_fs_used_bytes
    if not capacity or used is None:
        return None
    return int(capacity * trust.gc_high_percent / 100) - used


def _bytes(n: int) -> str:
    for unit, size in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n} B"


def _duration(span: timedelta) -> str:
    seconds = int(span.total_seconds())
    if seconds % 3600 == 0:
        return f"{seconds // 3600}h"
    if seconds % 60 == 0:
        return f"{seconds // 60}m"
    return f"{seconds}s"
