"""Cutting work into ImagePrePullJobs, and naming them.

Rule (docs/design.md §4): per (group, secret, policy), nodes sorted so that the same missing sets sit
together, in chunks of at most maxNodesPerJob; a job's images are the union of what its nodes
miss. A node is only put in a chunk with nodes whose union stays inside its *allowed* set: the
images it desires under that key minus those in flight, backing off or failed. So a job never
pulls an image onto a node that does not desire it, never bypasses a backoff, and the only
extra work is re-checking an image the node already holds (a cheap no-op: the edge asks CRI
ImageStatus before pulling). Nodes are therefore bucketed by allowed set, then chunked.

Suspects (`solo`: nodes whose last failure was silence after dispatch) get one job each: a
silent node holds its KubeEdge slot forever (kubeedge#7049), so in a shared job it would stall
every node queued behind it; alone, it can wedge only its own job.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection, Mapping
from typing import Final

import orjson

from reconciler.manifests.fleet import JobPolicy
from reconciler.observed.inventories import InventoryFailure
from reconciler.planner.model import PlannedJob

JobKey = tuple[str, str, JobPolicy]  # (group, secret or "", policy)

NAME_PREFIX: Final = "ef-"
_HASH_LENGTH: Final = 10
_MAX_NAME: Final = 63
_NOT_DNS = re.compile(r"[^a-z0-9-]+")


def job_name(group: str, content: bytes) -> str:
    """`ef-<group>-<hash>`: DNS-1123 label, at most 63 characters; the group part is sanitized
    and truncated, the hash (sha256 of `content`) keeps names of different content apart."""
    digest = hashlib.sha256(content).hexdigest()[:_HASH_LENGTH]
    room = _MAX_NAME - len(NAME_PREFIX) - 1 - _HASH_LENGTH
    part = _NOT_DNS.sub("-", group.lower())[:room].strip("-") or "group"
    return f"{NAME_PREFIX}{part}-{digest}"


def _content(
    key: JobKey, images: tuple[str, ...], nodes: tuple[str, ...], attempt: int, salt: int,
    previous: str,
) -> bytes:
    group, secret, policy = key
    fields: list[object] = [
        group, secret, list(images), list(nodes), attempt, salt, policy.concurrency,
        policy.failure_tolerate, policy.timeout_seconds, policy.retry_times,
        list(policy.check_items)]
    if previous:  # only retries carry it: first tries keep their names
        fields.append(previous)
    return orjson.dumps(fields)


#: What the planner hands over: key -> allowed set -> (missing set, node) entries.
Work = Mapping[JobKey, Mapping[frozenset[str], list[tuple[frozenset[str], str]]]]


def cut_jobs(
    work: Work,
    *,
    history: Mapping[str, Mapping[str, InventoryFailure]],
    api_version: str,
    revision: str | None,
    taken: Collection[str],
    solo: Collection[str] = (),
) -> list[PlannedJob]:
    """Jobs for `work` (see Work). `history` (node -> image -> failure record) goes into the name
    hash: the highest attempt count and the newest job that covered any of the pairs before
    (lastAttempt, lastJob), so a retry never gets the name of an earlier job (KubeEdge skips a
    name it thinks is still running, kubeedge#7049), even one deleted since; a name in `taken`
    (an existing job) is re-hashed with a salt. Nodes in `solo` get a job of their own.
    Deterministic; sorted by (group, name)."""
    jobs: list[PlannedJob] = []
    used = set(taken)
    order: dict[frozenset[str], tuple[str, ...]] = {}

    def sort_key(images: frozenset[str]) -> tuple[str, ...]:
        known = order.get(images)
        if known is None:
            known = order[images] = tuple(sorted(images))
        return known

    for key in sorted(work, key=lambda k: (k[0], k[1], k[2])):
        group, secret, policy = key
        size = max(policy.max_nodes_per_job, 1)
        buckets = work[key]
        for allowed in sorted(buckets, key=sort_key):
            entries = sorted(buckets[allowed], key=lambda e: (sort_key(e[0]), e[1]))
            shared = [e for e in entries if e[1] not in solo]
            chunks = [shared[start : start + size] for start in range(0, len(shared), size)]
            chunks.extend([e] for e in entries if e[1] in solo)
            for chunk in chunks:
                images = tuple(sorted(frozenset().union(*(missing for missing, _ in chunk))))
                nodes = tuple(sorted(node for _, node in chunk))
                records = [history[n][i] for n in nodes if n in history
                           for i in images if i in history[n]]
                attempt = max((r.attempts for r in records), default=0)
                previous = max(((r.last_attempt, r.last_job) for r in records), default=("", ""))
                salt = 0
                name = job_name(group, _content(key, images, nodes, attempt, salt, previous[1]))
                while name in used:
                    salt += 1
                    name = job_name(group, _content(key, images, nodes, attempt, salt, previous[1]))
                used.add(name)
                jobs.append(PlannedJob(
                    name=name, group=group, api_version=api_version, images=images,
                    node_names=nodes, secret=secret or None, policy=policy, revision=revision,
                    attempt=attempt,
                ))
    jobs.sort(key=lambda j: (j.group, j.name))
    return jobs
