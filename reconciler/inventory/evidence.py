"""Evidence from ImagePrePullJobs, per node, and the image-list cap of node status.

Pairs confirmed by any job count as present; failed attempts are counted only for jobs
edgefleet manages (their pairs were desired when created, and attempts drive its backoff), and
only for nodes the edge was asked about (kubeedge.dispatch). A stuck job (kubeedge#7049) counts
as finished: its dispatched nodes that never answered failed; its nodes still waiting for a slot
made no attempt. A managed job also leaves a trace on pairs it covered without an attempt (a
node refused at initialization: backoff without an attempt; a node never asked: only the
job's name), so a retry never reuses a name and a refused node does not loop.
"""

from __future__ import annotations

import functools
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import MappingProxyType

from reconciler.kubeedge.status import JobReading
from reconciler.manifests.imageref import match_name
from reconciler.observed.jobs import JobFacts
from reconciler.observed.nodes import NodeFacts

STUCK_REASON = "the job was stuck past its deadline and deleted; the node never reported (kubeedge#7049)"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
#: Inference of the cap needs this many nodes at the longest list length...
_CAP_MIN_NODES = 10
#: ...and at least this share of the nodes that report images.
_CAP_MIN_SHARE = 0.25


_NOTHING: Mapping[str, str] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class JobEvidence:
    """What one job says about one node: confirmed images and counted failures.

    `refused` (image -> reason): the node was refused before it was asked (backoff, no
    attempt). `covered`: images of a managed job the node was never asked about (no attempt,
    no backoff; only the job is remembered). `ended`: the latest the job could have ended for
    the node, its last status report or its creation plus timeoutSeconds (None: now, e.g. a
    stuck job); backoff is measured from it (never from later than now).
    """

    job: str
    created: datetime
    pulled: frozenset[str]
    failed: Mapping[str, str]  # image -> reason; empty for jobs edgefleet does not manage
    silent: bool = False  # the failure is silence after dispatch (timed out, never answered)
    refused: Mapping[str, str] = field(default_factory=lambda: _NOTHING)
    covered: frozenset[str] = frozenset()
    ended: datetime | None = None


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
        is_stuck = job.name in stuck
        # The latest a node of the job could have ended: a node that timed out reports nothing
        # at its timeout, so its last report (the dispatch) would start its backoff too early.
        timeout = timedelta(seconds=max(job.template.timeout_seconds or 0, 0))
        ended = None if is_stuck else max(reading.last_report or created, created + timeout)
        for node in reading.nodes:
            ev = reading.evidence[node]
            failed: Mapping[str, str] = ev.failed if managed else _NOTHING
            refused: Mapping[str, str] = _NOTHING
            covered: frozenset[str] = frozenset()
            if managed:
                rest = [i for i in reading.images if i not in ev.pulled]
                if is_stuck and not ev.finished and ev.dispatched:
                    failed = MappingProxyType(dict.fromkeys(rest, STUCK_REASON))
                elif ev.refused:
                    refused = MappingProxyType(
                        dict.fromkeys(rest, ev.reason or "refused at initialization"))
                elif not ev.dispatched and (ev.finished or is_stuck):
                    covered = frozenset(rest)
            if ev.pulled or failed or refused or covered:
                by_node[node].append(JobEvidence(
                    reading.name, created, ev.pulled, failed, silent=ev.silent,
                    refused=refused, covered=covered, ended=ended))
    for evidence in by_node.values():
        evidence.sort(key=lambda e: (e.created, e.job))
    return dict(by_node)


def align_evidence(
    evidence: Mapping[str, list[JobEvidence]], wanted: Mapping[str, frozenset[str]]
) -> dict[str, list[JobEvidence]]:
    """`evidence` with image names as the nodes desire them: a job that names a digest-pinned
    image differently (`name@digest` for a desired `name:tag@digest`, or the reverse) speaks of
    the desired pair (imageref.match_name). Nodes absent from `wanted` are kept as they are."""
    aligned: dict[str, list[JobEvidence]] = {}
    for node, items in evidence.items():
        desired = wanted.get(node)
        if not desired:
            aligned[node] = items
            continue
        out: list[JobEvidence] = []
        for ev in items:
            if (ev.pulled <= desired and ev.failed.keys() <= desired
                    and ev.refused.keys() <= desired and ev.covered <= desired):
                out.append(ev)
                continue
            keys = _match_names(desired)
            out.append(JobEvidence(
                ev.job, ev.created,
                frozenset(d for i in ev.pulled for d in _aligned(i, desired, keys)),
                _aligned_map(ev.failed, desired, keys), silent=ev.silent,
                refused=_aligned_map(ev.refused, desired, keys),
                covered=frozenset(d for i in ev.covered for d in _aligned(i, desired, keys)),
                ended=ev.ended,
            ))
        aligned[node] = out
    return aligned


@functools.lru_cache(maxsize=1024)
def _match_names(desired: frozenset[str]) -> Mapping[str, tuple[str, ...]]:
    by_key: dict[str, list[str]] = defaultdict(list)
    for image in sorted(desired):
        by_key[match_name(image)].append(image)
    return MappingProxyType({k: tuple(v) for k, v in by_key.items()})


def _aligned(image: str, desired: frozenset[str], keys: Mapping[str, tuple[str, ...]]
             ) -> tuple[str, ...]:
    if image in desired:
        return (image,)
    return keys.get(match_name(image), (image,))


def _aligned_map(items: Mapping[str, str], desired: frozenset[str],
                 keys: Mapping[str, tuple[str, ...]]) -> Mapping[str, str]:
    if not items:
        return items
    return MappingProxyType(
        {d: reason for image, reason in items.items() for d in _aligned(image, desired, keys)})


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
