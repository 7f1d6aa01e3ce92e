"""Read an ImagePrePullJob status, in either dialect, into per-node, per-image evidence.

Dialect is told by the fields (docs/kubeedge.md §4.6): `status.phase` is v1alpha2 (1.21+),
`status.state` is v1alpha1 (1.16-1.20). Success is counted only per image: v1alpha2
`imageStatus[].status == "True"`, v1alpha1 `imageStatus[].state == "Successful"`. A node or job
that reports success without those entries confirms nothing (the v1alpha1 silent-success bugs:
`retryTimes: 0` in 1.16.0, secret errors), and once the node or job is final, every image it did
not confirm is read as a failed attempt, but only for a node the edge was actually asked about
(`dispatch.py`): a node queued behind the concurrency limit that 1.21 timed out from the job's
creation, or one refused at initialization, made no attempt.

Image names (spec and imageStatus) are normalized as they are read: KubeEdge echoes the spec's
strings, and a job written by hand may say `nginx:1.25` where the fleet desires
`docker.io/library/nginx:1.25`. Names that are not valid references are skipped.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Literal

from reconciler.kubeedge.dispatch import v1alpha1_dispatched, v1alpha2_dispatched
from reconciler.manifests.imageref import ImageRefError, normalize_image
from reconciler.observed.jobs import ImageStatus, JobFacts, NodeStatusV2

JobPhase = Literal["pending", "running", "succeeded", "failed"]
Dialect = Literal["v1alpha1", "v1alpha2", "none"]

_V2_JOB_PHASES: Mapping[str, JobPhase] = {
    "": "pending", "Init": "pending", "InProgress": "running",
    "Completed": "succeeded", "Failure": "failed",
}
_V1_JOB_STATES: Mapping[str, JobPhase] = {
    "": "pending", "Init": "pending", "Checking": "running", "Pulling": "running",
    "Successful": "succeeded", "Failed": "failed",
}
_V2_FINAL_NODE_PHASES = frozenset({"Successful", "Failure", "Unknown"})
_V1_FINAL_NODE_STATES = frozenset({"Successful", "Failed"})
_SUCCESS_NODE_PHASES = frozenset({"Successful"})

SILENT_SUCCESS = "reported success without a per-image status (KubeEdge silent success)"


@dataclass(frozen=True, slots=True)
class NodeEvidence:
    """What one job says about one of its nodes.

    `pulled`: images confirmed present. `failed`: image -> reason, for images a dispatched node
    did not confirm once it (or the job) was final; empty for a node never dispatched.
    `finished`: the node reached a final phase, so none of its images are still in flight.
    `dispatched`: the edge was asked (as far as the status shows). `silent`: dispatched and no
    final answer from the edge (timed out, or still waiting). `refused`: the node ended in
    Failure without being asked (v1alpha2: refused at initialization, e.g. not ready or not
    connected to this CloudCore): no attempt, but planning it again at once would loop.
    """

    node: str
    finished: bool
    pulled: frozenset[str]
    failed: Mapping[str, str]
    reason: str = ""
    dispatched: bool = True
    silent: bool = False
    refused: bool = False


@dataclass(frozen=True, slots=True)
class JobReading:
    """A job's status, normalized: phase in a small vocabulary plus evidence per node.

    `nodes` and `images` come from the spec template (what the job was asked to do); `evidence`
    has an entry for every node of `nodes`, in that order.
    """

    name: str
    dialect: Dialect
    phase: JobPhase
    reason: str
    images: tuple[str, ...]
    nodes: tuple[str, ...]
    evidence: Mapping[str, NodeEvidence]
    last_report: datetime | None = None  # newest time the status carries (edge clocks: approximate)

    @property
    def finished(self) -> bool:
        """The job reached a final phase (Completed/Failure or Successful/Failed)."""
        return self.phase in ("succeeded", "failed")

    @property
    def silent_nodes(self) -> tuple[str, ...]:
        """Nodes that have not reported a final result (sorted as in the spec)."""
        return tuple(n for n in self.nodes if not self.evidence[n].finished)


def read_job(job: JobFacts) -> JobReading:
    """Interpret `job`'s status (either dialect, or none yet) into a JobReading. Never raises:
    unknown phase strings are read as running, unknown image states as no evidence."""
    status = job.status
    template = job.template
    images = _normalized_names(template.images)
    nodes = tuple(dict.fromkeys(template.node_names))
    per_node: dict[str, tuple[str, str, list[ImageStatus]]] = {}  # node -> (phase, reason, images)
    dialect: Dialect
    dispatched: Mapping[str, tuple[bool, bool]]  # node -> (dispatched, silent)
    if status.phase is not None:
        dialect = "v1alpha2"
        phase = _V2_JOB_PHASES.get(status.phase, "running")
        for entry in status.node_status:
            per_node[entry.node_name] = (entry.phase, entry.reason or _failed_action(entry),
                                         entry.image_status)
        final_phases = _V2_FINAL_NODE_PHASES
        dispatched = v1alpha2_dispatched(nodes, status.node_status, template.concurrency)
    elif status.state is not None:
        dialect = "v1alpha1"
        phase = _V1_JOB_STATES.get(status.state, "running")
        for v1 in status.status:
            node_state = v1.node_status
            per_node[node_state.node_name] = (node_state.state, node_state.reason, v1.image_status)
        final_phases = _V1_FINAL_NODE_STATES
        dispatched = v1alpha1_dispatched(nodes, status.status)
    else:
        dialect, phase, final_phases = "none", "pending", frozenset()
        dispatched = {}
    job_final = phase in ("succeeded", "failed")
    evidence: dict[str, NodeEvidence] = {}
    for node in nodes:
        node_phase, node_reason, image_statuses = per_node.get(node, ("", "", []))
        finished = job_final or node_phase in final_phases
        asked, silent = dispatched.get(node, (False, False))
        evidence[node] = _node_evidence(
            node, images, image_statuses, finished=finished, node_phase=node_phase,
            reason=node_reason, dispatched=asked, silent=silent,
        )
    return JobReading(
        name=job.name, dialect=dialect, phase=phase, reason=status.reason, images=images,
        nodes=nodes, evidence=MappingProxyType(evidence), last_report=_last_report(job),
    )


def _failed_action(entry: NodeStatusV2) -> str:
    """The reason of the node's newest failed action: CloudCore sets no node reason for an edge
    report, so an edge that failed before pulling (a missing secret, a failed Check) says why
    only there (docs/kubeedge.md §3.2)."""
    for item in reversed(entry.action_flow):
        if item.status == "False" and item.reason:
            return item.reason
    return ""


def _last_report(job: JobFacts) -> datetime | None:
    status = job.status
    times = [status.time] if status.time else []
    times.extend(item.time for entry in status.node_status for item in entry.action_flow if item.time)
    times.extend(entry.node_status.time for entry in status.status if entry.node_status.time)
    parsed = [t for t in map(_parse_time, times) if t is not None]
    return max(parsed) if parsed else None


def _parse_time(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _node_evidence(
    node: str,
    images: tuple[str, ...],
    statuses: list[ImageStatus],
    *,
    finished: bool,
    node_phase: str,
    reason: str,
    dispatched: bool,
    silent: bool,
) -> NodeEvidence:
    pulled: set[str] = set()
    failed: dict[str, str] = {}
    for entry in statuses:
        image = _normalized(entry.image)
        if image is None:
            continue
        if entry.status == "True" or entry.state == "Successful":
            pulled.add(image)
        elif entry.status == "False" or entry.state == "Failed":
            failed[image] = entry.reason or reason or "pull failed"
    if finished and dispatched:
        if node_phase in _SUCCESS_NODE_PHASES:
            default = SILENT_SUCCESS
        else:
            default = reason or f"node ended in phase {node_phase or 'none'}"
        for image in images:
            if image not in pulled and image not in failed:
                failed[image] = default
    else:
        # An unfinished node may still retry (retryTimes), and one never dispatched made no
        # attempt at all: neither counts.
        failed = {}
    return NodeEvidence(
        node=node, finished=finished, pulled=frozenset(pulled),
        failed=MappingProxyType(dict(sorted(failed.items()))), reason=reason,
        dispatched=dispatched, silent=silent and dispatched,
        refused=finished and not dispatched and node_phase == "Failure",
    )


def _normalized(name: str) -> str | None:
    try:
        return normalize_image(name)
    except ImageRefError:
        return None  # not a reference anyone could desire


def _normalized_names(names: list[str]) -> tuple[str, ...]:
    out = (_normalized(name) for name in names)
    return tuple(dict.fromkeys(name for name in out if name is not None))
