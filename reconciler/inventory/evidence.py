"""Evidence from ImagePrePullJobs, per node, and the image-list cap of node status.

Pairs confirmed by any job count as present; failed attempts are counted only for jobs
edgefleet manages (their pairs were desired when created, and attempts drive its backoff), and
only for nodes the edge was asked about (kubeedge.dispatch). A stuck job (kubeedge#7049) counts
as finished: its dispatched nodes that never answered failed; its nodes still waiting for a slot
made no attempt.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from types import MappingProxyType

from reconciler.kubeedge.status import JobReading
from reconciler.observed.jobs import JobFacts
from reconciler.observed.nodes import NodeFacts

STUCK_REASON = "the job was stuck past its deadline and deleted; the node never reported (kubeedge#7049)"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
#: Inference of the cap needs this many nodes at the longest list length...
_CAP_MIN_NODES = 10
#: ...and at least this share of the nodes that report images.
_CAP_MIN_SHARE = 0.25


@dataclass(frozen=True, slots=True)
class JobEvidence:
    """What one job says about one node: confirmed images and counted failures."""

    job: str
    created: datetime
    pulled: frozenset[str]
    failed: Mapping[str, str]  # image -> reason; empty for jobs edgefleet does not manage
    silent: bool = False  # the failure is silence after dispatch (timed out, never answered)


def job_created(job: JobFacts) -> datetime:
    """The job's creationTimestamp (UTC); the epoch when the object carries none."""
    created = job.metadata.creation_timestamp
    if created is None:
        return EPOCH
    return created if created.tzinfo else created.replace(tzinfo=UTC)


def collect_evidence(
    readings: Iterable[tuple[JobFacts, JobReading, bool]], stuck: frozenset[str]
) -> dict[str, list[JobEvidence]]:
    """Group job evidence by node: node -> evidence in (creation time, job name) order.

    `readings` holds (job, reading, managed). Jobs named in `stuck` are read as finished: their
    unfinished dispatched nodes' images count as failed with STUCK_REASON; their nodes never
    dispatched count nothing (they are simply planned again).
    """
    by_node: dict[str, list[JobEvidence]] = defaultdict(list)
    for job, reading, managed in readings:
        created = job_created(job)
        for node in reading.nodes:
            ev = reading.evidence[node]
            failed: Mapping[str, str] = ev.failed if managed else {}
            if managed and job.name in stuck and not ev.finished and ev.dispatched:
                failed = MappingProxyType(
                    {i: STUCK_REASON for i in reading.images if i not in ev.pulled}
                )
            if ev.pulled or failed:
                by_node[node].append(
                    JobEvidence(reading.name, created, ev.pulled, failed, silent=ev.silent))
    for evidence in by_node.values():
        evidence.sort(key=lambda e: (e.created, e.job))
    return dict(by_node)


def infer_image_cap(nodes: Iterable[NodeFacts]) -> int | None:
    """Guess kubelet's `nodeStatusMaxImages` from what nodes report.

    Returns 0 when no node reports any image (KubeEdge's default cap: absence means nothing), the
    longest list length when many nodes report exactly that many (a cap cuts lists to one length),
    and None (lists look complete) otherwise, or for an empty fleet.
    """
    counts: Counter[int] = Counter()
    total = 0
    for node in nodes:
        total += 1
        if node.images_reported:
            counts[node.images_reported] += 1
    if total == 0:
        return None
    if not counts:
        return 0
    longest = max(counts)
    at_longest = counts[longest]
    if at_longest >= _CAP_MIN_NODES and at_longest >= _CAP_MIN_SHARE * sum(counts.values()):
        return longest
    return None


def list_truncated(node: NodeFacts, cap: int | None) -> bool:
    """True when absence from `node.images` proves nothing: the list may have been cut at `cap`."""
    return cap is not None and cap >= 0 and node.images_reported >= cap
