"""KubeEdge 1.21+ ImagePrePullJob semantics (v1alpha2 NodeTask framework) as pure steps.

The controller-manager initializes the job and computes its phase (`init_status`,
`calculate_phase`, `timeout_nodes`); CloudCore's executor dispatches nodes through a pool of
`concurrency` slots (`Executor`, `mark_dispatched`) and folds edge reports into the status
(`apply_report`). Reference sections 2.2, 3.2 and 4.3. Every function returns a new status dict
and never mutates its input; time is a parameter.
"""

from __future__ import annotations

import copy
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from reconciler.sim.apiserver.errors import Obj
from reconciler.sim.clock import parse_rfc3339, rfc3339
from reconciler.sim.kubeedge.prepull import (
    NodeFacts,
    PrePullSpec,
    go_round2,
    parse_tolerance,
    tolerance_reason,
)

FINALIZER = "kubeedge.io/imageprepulljob-controller"
FINAL_PHASES = frozenset({"Completed", "Failure"})
TIMEOUT_REASON = "The node task has timed out"
PULL_FAILED_REASON = "there were some failures when pulling images"
NO_MATCH_REASON = "no nodes were matched with selector"
BOTH_SET_REASON = "nodeNames and nodeSelector cannot be specified at the same time"
NEITHER_SET_REASON = "nodeNames and nodeSelector cannot both be empty"
TIMEOUT_CHECK_SECONDS = 10  # the controller-manager's timeout ticker


def selection_error(spec: PrePullSpec) -> str | None:
    """The init error for a job that sets both or neither of nodeNames/labelSelector."""
    if spec.node_names and spec.label_selector is not None:
        return BOTH_SET_REASON
    if not spec.node_names and spec.label_selector is None:
        return NEITHER_SET_REASON
    return None


def node_verdict(name: str, facts: NodeFacts | None) -> tuple[str, str]:
    """(phase, reason) of one target node at init: Pending, or Failure with the reason."""
    if facts is None:
        return "Failure", f'failed to get node, err: nodes "{name}" not found'
    if not facts.is_edge:
        return "Failure", "the node is not an edge node"
    if facts.ready is not True:
        return "Failure", "the node is not ready"
    return "Pending", ""


def init_status(spec: PrePullSpec, targets: Sequence[tuple[str, NodeFacts | None]]) -> Obj:
    """The status the controller-manager writes for a job at phase "".

    `targets` are the resolved nodes in order: for nodeNames each name with its facts (None if
    the node does not exist); for a labelSelector the matching nodes. Returns phase Init with
    one nodeStatus entry per target, or phase Failure with a reason and no nodeStatus."""
    error = selection_error(spec)
    if error is None and spec.label_selector is not None and not targets:
        error = NO_MATCH_REASON
    if error is not None:
        return {"phase": "Failure", "reason": error}
    entries: list[Obj] = []
    seen: set[str] = set()
    for name, facts in targets:
        if name in seen:
            continue
        seen.add(name)
        phase, reason = node_verdict(name, facts)
        entry: Obj = {"nodeName": name, "phase": phase}
        if reason:
            entry["reason"] = reason
        entries.append(entry)
    return {"phase": "Init", "nodeStatus": entries}


def calculate_phase(status: Obj, failure_tolerate: str) -> tuple[str, str]:
    """(phase, reason) from the per-node phases (KM nodetask/calculation.go).

    No nodes: Failure; any Pending/InProgress: InProgress; else Failure when
    round(failed/total, 2) > failureTolerate (Unknown counts as failed; an empty or
    unparsable tolerance is 0), else Completed."""
    nodes = status.get("nodeStatus") or []
    total = len(nodes)
    if total == 0:
        return "Failure", str(status.get("reason") or "")
    phases = [n.get("phase") for n in nodes]
    if any(p in ("Pending", "InProgress") for p in phases):
        return "InProgress", ""
    failed = sum(1 for p in phases if p in ("Failure", "Unknown"))
    if go_round2(failed / total) > parse_tolerance(failure_tolerate, 0.0):
        return "Failure", tolerance_reason(failed, total)
    return "Completed", ""


def recalculate(status: Obj, spec: PrePullSpec) -> Obj | None:
    """The controller-manager's reconcile of an initialized, unfinished job: a new status
    with the recalculated phase, or None when nothing changes (final jobs never change)."""
    current = status.get("phase", "")
    if current in ("", *FINAL_PHASES):
        return None
    phase, reason = calculate_phase(status, spec.failure_tolerate)
    if phase == current and reason == status.get("reason", ""):
        return None
    new = copy.deepcopy(status)
    new["phase"] = phase
    if reason:
        new["reason"] = reason
    else:
        new.pop("reason", None)
    return new


def timeout_nodes(status: Obj, spec: PrePullSpec, created: datetime,
                  now: datetime) -> tuple[Obj | None, list[str]]:
    """The controller-manager's 10 s timeout pass: (new status or None, timed-out nodes).

    Only while phase is InProgress and timeoutSeconds > 0: every Pending or InProgress node
    whose last actionFlow time (or the job's creation, without any action) is older than
    timeoutSeconds becomes Unknown "The node task has timed out"."""
    if status.get("phase") != "InProgress" or not spec.timeout_seconds or spec.timeout_seconds <= 0:
        return None, []
    limit = timedelta(seconds=spec.timeout_seconds)
    new = copy.deepcopy(status)
    timed_out: list[str] = []
    for node in new.get("nodeStatus") or []:
        if node.get("phase") not in ("Pending", "InProgress"):
            continue
        flow = node.get("actionFlow") or []
        since = parse_rfc3339(flow[-1]["time"]) if flow and flow[-1].get("time") else created
        if now - since > limit:
            node["phase"] = "Unknown"
            node["reason"] = TIMEOUT_REASON
            timed_out.append(node["nodeName"])
    return (new, timed_out) if timed_out else (None, [])


def node_phase(status: Obj, node: str) -> str | None:
    """The phase of `node` in the job status, or None when the job does not list it."""
    for entry in status.get("nodeStatus") or []:
        if entry.get("nodeName") == node:
            return str(entry.get("phase", ""))
    return None


def mark_dispatched(status: Obj, node: str, connected: bool) -> Obj:
    """CloudCore sent the task to `node`: InProgress; a node not connected to this CloudCore
    is Failure at once (its reason is dropped for this job type, docs/kubeedge.md §3.2). Only a
    Pending node changes: a node that timed out while queued keeps Unknown."""
    new = copy.deepcopy(status)
    for entry in new.get("nodeStatus") or []:
        if entry.get("nodeName") == node and entry.get("phase") == "Pending":
            entry["phase"] = "InProgress" if connected else "Failure"
    return new


@dataclass(frozen=True, slots=True)
class ImageResult:
    """One image of a Pull report."""

    image: str
    ok: bool
    reason: str = ""


@dataclass(frozen=True, slots=True)
class EdgeReport:
    """EdgeCore's UpdateNodeActionStatus for one action (time from the edge clock)."""

    node: str
    action: Literal["Check", "Pull"]
    ok: bool
    time: datetime
    reason: str = ""
    images: tuple[ImageResult, ...] = ()

    @property
    def final(self) -> bool:
        """A Pull report, or a failed Check, ends the node's task."""
        return self.action == "Pull" or not self.ok


def apply_report(status: Obj, report: EdgeReport) -> Obj:
    """CloudCore upstream: append the actionFlow entry, set the node phase (InProgress for a
    non-final report, Successful/Failure for a final one) and, for Pull, replace imageStatus.
    A late report overwrites Unknown (the timeout reason is cleared, cf. kubeedge#6356)."""
    new = copy.deepcopy(status)
    for entry in new.get("nodeStatus") or []:
        if entry.get("nodeName") != report.node:
            continue
        item: Obj = {"action": report.action, "status": "True" if report.ok else "False",
                     "time": rfc3339(report.time)}
        if report.reason:
            item["reason"] = report.reason
        entry.setdefault("actionFlow", []).append(item)
        if report.final:
            entry["phase"] = "Successful" if report.ok else "Failure"
        else:
            entry["phase"] = "InProgress"
        entry.pop("reason", None)
        if report.action == "Pull":
            entry["imageStatus"] = [
                {"image": r.image, "status": "True" if r.ok else "False",
                 **({"reason": r.reason} if r.reason else {})}
                for r in report.images
            ]
    return new


@dataclass
class Executor:
    """CloudCore's per-job executor: a FIFO of Pending nodes and a pool of slots.

    `wedge` (kubeedge#7049): a timed-out node does not give its slot back, so a silent node
    holds it forever and the nodes queued behind it are never dispatched."""

    job: str
    uid: str
    queue: deque[str]
    slots: int
    wedge: bool = True
    running: set[str] = field(default_factory=set)
    interrupted: bool = False

    @classmethod
    def for_status(cls, job: str, uid: str, status: Obj, concurrency: int,
                   wedge: bool) -> Executor:
        """An executor over the job's Pending nodes; concurrency <= 0 means 1."""
        pending = [n["nodeName"] for n in status.get("nodeStatus") or []
                   if n.get("phase") == "Pending"]
        return cls(job, uid, deque(pending), concurrency if concurrency > 0 else 1, wedge)

    def take(self) -> list[str]:
        """Nodes to dispatch now (each takes a slot); none once interrupted."""
        out: list[str] = []
        while not self.interrupted and self.queue and len(self.running) < self.slots:
            node = self.queue.popleft()
            self.running.add(node)
            out.append(node)
        return out

    def release(self, node: str) -> None:
        """A final report (or a failed dispatch) gives the slot back."""
        self.running.discard(node)

    def timed_out(self, node: str) -> None:
        """The controller-manager marked `node` Unknown: the slot is kept when wedged."""
        if not self.wedge:
            self.running.discard(node)

    @property
    def finished(self) -> bool:
        """No node left to dispatch or to hear from: the executor leaves the map."""
        return not self.running and (self.interrupted or not self.queue)
