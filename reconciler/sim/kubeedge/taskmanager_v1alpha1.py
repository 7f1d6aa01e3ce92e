"""KubeEdge 1.16-1.20 ImagePrePullJob semantics (v1alpha1 FSM in CloudCore), as pure steps.

States are capitalized as the Go constants are: "" (read as Init), Checking, Pulling,
Successful, Failed; events Init/Check/Pull/TimeOut; actions Success/Failure. The executor runs
the stages with a barrier (every node finishes Init before any starts Check, and so on), at
most `concurrency` nodes in flight, a per-node per-stage timeout, and the failure tolerance
rule `continue only while failed < len(nodes) * failureTolerate` (docs/kubeedge.md §3.1 and 4.2).

`V1Executor` keeps CloudCore's in-memory state; its methods take the job status dict and
return a new one (never mutating the input), with time as a parameter.
"""

from __future__ import annotations

import copy
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from reconciler.sim.apiserver.errors import Obj
from reconciler.sim.clock import rfc3339
from reconciler.sim.kubeedge.prepull import NodeFacts, PrePullSpec, parse_tolerance, tolerance_reason

STAGES = ("Init", "Check", "Pull")
FINAL_STATES = frozenset({"Successful", "Failed"})
DEFAULT_TOLERANCE = 0.1
DEFAULT_TIMEOUT = 300
TIMEOUT_REASON = "node task timed out"
# PrePullRule: (state, event, action) -> next state; any Failure action -> Failed.
_RULES = {
    ("Init", "Init", "Success"): "Checking",
    ("Checking", "Check", "Success"): "Pulling",
    ("Pulling", "Pull", "Success"): "Successful",
}


def transition(state: str, event: str, action: str) -> str:
    """The FSM: the next state, or ValueError for a transition the rules do not allow."""
    if action == "Failure":
        return "Failed"
    nxt = _RULES.get((state or "Init", event, action))
    if nxt is None:
        raise ValueError(f"no transition from {state or 'Init'!r} on {event}/{action}")
    return nxt


def eligible_nodes(spec: PrePullSpec,
                   targets: Sequence[tuple[str, NodeFacts | None]]) -> list[str] | None:
    """The node list the executor computes once, or None when no status is written at all.

    nodeNames wins over labelSelector. Non-edge nodes and NotReady nodes are dropped silently
    (no Ready condition counts as ready); one unknown name stops the job with the error only
    in the log (kubeedge#5531); an empty result fails with "no node need to be upgrade",
    also without status."""
    names: list[str] = []
    for name, facts in targets:
        if facts is None:
            return None
        if facts.is_edge and facts.ready is not False and name not in names:
            names.append(name)
    return names or None


@dataclass
class V1Executor:
    """CloudCore's executor for one v1alpha1 job."""

    job: str
    uid: str
    nodes: list[str]
    concurrency: int
    timeout: timedelta
    max_failed: float
    stage: int = 0
    queue: deque[str] = field(default_factory=deque)
    running: dict[str, datetime] = field(default_factory=dict)  # node -> stage deadline
    failed: set[str] = field(default_factory=set)
    stopping: bool = False
    finished: bool = False

    @classmethod
    def start(cls, job: str, uid: str, spec: PrePullSpec, nodes: list[str]) -> V1Executor:
        """Defaults as v1alpha1 applies them: concurrency <= 0 -> 1, timeoutSeconds 0 (or
        absent, which would crash the Go code) -> 300, failureTolerate empty/invalid -> 0.1."""
        timeout = spec.timeout_seconds if spec.timeout_seconds else DEFAULT_TIMEOUT
        tolerance = parse_tolerance(spec.failure_tolerate, DEFAULT_TOLERANCE)
        ex = cls(job, uid, list(nodes), spec.concurrency if spec.concurrency > 0 else 1,
                 timedelta(seconds=timeout), len(nodes) * tolerance)
        ex.queue = deque(nodes)
        return ex

    @property
    def event(self) -> str:
        """The event of the current stage."""
        return STAGES[self.stage]

    def take(self, now: datetime) -> list[str]:
        """Nodes to send the current stage's event to now (each gets a stage deadline)."""
        out: list[str] = []
        while (not self.stopping and not self.finished and self.queue
               and len(self.running) < self.concurrency):
            node = self.queue.popleft()
            self.running[node] = now + self.timeout
            out.append(node)
        return out

    def report(self, status: Obj, node: str, event: str, action: str, reason: str,
               images: Sequence[Obj] | None, now: datetime) -> Obj:
        """A node's answer for the current stage (stale answers are ignored)."""
        if node not in self.running or event != self.event:
            return status
        del self.running[node]
        return self._record(status, node, event, action, reason, images, now)

    def expire(self, status: Obj, now: datetime) -> tuple[Obj, list[str]]:
        """Time out every in-flight node whose stage deadline has passed: Failed, TimeOut."""
        late = sorted(n for n, deadline in self.running.items() if now >= deadline)
        for node in late:
            del self.running[node]
            status = self._record(status, node, "TimeOut", "Failure", TIMEOUT_REASON, None, now)
        return status, late

    def _record(self, status: Obj, node: str, event: str, action: str, reason: str,
                images: Sequence[Obj] | None, now: datetime) -> Obj:
        new = copy.deepcopy(status)
        entries = new.setdefault("status", [])
        entry = next((e for e in entries if e["nodeStatus"]["nodeName"] == node), None)
        if entry is None:
            entry = {"nodeStatus": {"nodeName": node, "state": ""}}
            entries.append(entry)
        ns = entry["nodeStatus"]
        ns.update(state=transition(ns.get("state", ""), event, action), event=event,
                  action=action, time=rfc3339(now))
        if reason:
            ns["reason"] = reason
        else:
            ns.pop("reason", None)
        if images is not None:
            entry["imageStatus"] = list(images)
        if action == "Failure":
            self.failed.add(node)
        if not len(self.failed) < self.max_failed:
            self.stopping = True
        return self._advance(new, now)

    def _advance(self, status: Obj, now: datetime) -> Obj:
        """Move the job on when the stage (or, once stopping, the in-flight set) is done."""
        if self.running:
            return status
        if self.stopping:
            self.finished = True
            status.update(state="Failed", event=self.event, action="Failure", time=rfc3339(now),
                          reason=tolerance_reason(len(self.failed), len(self.nodes)) + ".")
            return status
        if self.queue:
            return status
        status.update(state=transition(status.get("state", ""), self.event, "Success"),
                      event=self.event, action="Success", time=rfc3339(now))
        status.pop("reason", None)
        if self.stage == len(STAGES) - 1:
            self.finished = True
        else:
            self.stage += 1
            self.queue = deque(n for n in self.nodes if n not in self.failed)
            if not self.queue:  # cannot happen while failed < max_failed, kept for safety
                self.stopping = True
                return self._advance(status, now)
        return status

    def next_deadline(self) -> datetime | None:
        """The earliest stage deadline in flight."""
        return min(self.running.values(), default=None)
