"""Write a fleet snapshot (observed/snapshot.py) from a live cluster, streamed: each LIST page
is reduced and written to the gzip stream, then dropped, so memory holds one page at a time.

Reads nodes, ImagePrePullJobs, EdgeNodeInventory and FleetRollout objects with get/list
only: a read-only ServiceAccount is enough.
"""

from __future__ import annotations

import gzip
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any, cast

import msgspec

from reconciler.kube.discovery import JOB_GROUP, JOB_PLURAL, choose_job_api_version, served_versions
from reconciler.kube.errors import ApiRejected, KubeError
from reconciler.kube.listing import MAX_LIST_RESTARTS, list_pages
from reconciler.kube.reading import INVENTORY_GROUP, INVENTORY_PLURAL, INVENTORY_VERSION
from reconciler.kube.rollouts import GROUP as ROLLOUT_GROUP
from reconciler.kube.rollouts import PLURAL as ROLLOUT_PLURAL
from reconciler.kube.rollouts import VERSION as ROLLOUT_VERSION
from reconciler.kube.session import Session
from reconciler.observed.cluster import decode_normalized_nodes
from reconciler.observed.snapshot import snapshot_end, snapshot_header, snapshot_section
from reconciler.observed.snapshot_nodes import ImageTable


class _Page(msgspec.Struct):
    items: list[msgspec.Raw] | None = None


_PAGE = msgspec.json.Decoder(_Page)


@dataclass(frozen=True, slots=True)
class SnapshotCounts:
    """What a written snapshot holds."""

    nodes: int
    jobs: int
    inventories: int
    job_api_version: str
    inventory_served: bool
    rollouts: int = 0


def write_snapshot(session: Session, out: Path, *, taken_at: datetime) -> SnapshotCounts:
    """Read the cluster and write the snapshot to `out` (replaced atomically; never a partial
    file). A list whose continue token expires (410 Gone) starts the snapshot over, so that it
    is one consistent reading. Raises KubeError, OSError."""
    for _ in range(MAX_LIST_RESTARTS):
        partial = out.with_name(out.name + ".partial")
        try:
            with partial.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as stream:
                counts = _write(session, cast(IO[bytes], stream), taken_at)
            os.replace(partial, out)
            return counts
        except ApiRejected as error:
            if error.code != 410:
                raise
        finally:
            partial.unlink(missing_ok=True)
    raise KubeError(f"snapshot: the lists kept expiring (410 Gone) after {MAX_LIST_RESTARTS} restarts")


def _write(session: Session, stream: IO[bytes], taken_at: datetime) -> SnapshotCounts:
    served = served_versions(session)
    api_version = choose_job_api_version(served)
    inventory_served = INVENTORY_VERSION in served.get(INVENTORY_GROUP, ())
    nodes = list_pages(session, "list nodes", session.core.list_node)
    jobs = list_pages(session, f"list {JOB_PLURAL}", session.custom.list_cluster_custom_object,
                      group=JOB_GROUP, version=api_version.rpartition("/")[2], plural=JOB_PLURAL)
    inventories = list_pages(
        session, f"list {INVENTORY_PLURAL}", session.custom.list_cluster_custom_object,
        group=INVENTORY_GROUP, version=INVENTORY_VERSION, plural=INVENTORY_PLURAL) if inventory_served else ()
    return stream_snapshot(stream, taken_at=taken_at, job_api_version=api_version,
                           inventory_served=inventory_served, node_pages=nodes, job_pages=jobs,
                           inventory_pages=inventories, rollout_pages=_rollout_pages(session, served))


def _rollout_pages(session: Session, served: dict[str, tuple[str, ...]]) -> Iterable[bytes]:
    """FleetRollout LIST pages; none when the CRD is not installed (no rollout recorded yet)."""
    if ROLLOUT_VERSION not in served.get(ROLLOUT_GROUP, ()):
        return
    yielded = False
    try:
        for page in list_pages(session, f"list {ROLLOUT_PLURAL}", session.custom.list_cluster_custom_object,
                               group=ROLLOUT_GROUP, version=ROLLOUT_VERSION, plural=ROLLOUT_PLURAL):
            yielded = True
            yield page
    except ApiRejected as error:
        if yielded or error.code != 404:
            raise  # 404 on the first page: the CRD went away between discovery and the list


def stream_snapshot(stream: IO[bytes], *, taken_at: datetime, job_api_version: str, inventory_served: bool,
                    node_pages: Iterable[bytes], job_pages: Iterable[bytes],
                    inventory_pages: Iterable[bytes], rollout_pages: Iterable[bytes] = ()) -> SnapshotCounts:
    """Write a snapshot document to `stream` from LIST page bodies, one page at a time (the
    pages are read lazily, in this order): nodes as the planner's facts (image names normalized,
    each stored once in the table at the end), jobs, inventories and rollouts whole. The writer
    behind `write_snapshot`, also what bench/snapshot.py times."""
    stream.write(snapshot_header(taken_at=taken_at, job_api_version=job_api_version,
                                 inventory_served=inventory_served))
    table = ImageTable()
    nodes = _stream(stream, node_pages, lambda body: table.encode(decode_normalized_nodes(body)))
    stream.write(snapshot_section("jobs"))
    jobs = _stream(stream, job_pages, _raw_items)
    stream.write(snapshot_section("inventories"))
    inventories = _stream(stream, inventory_pages, _raw_items)
    stream.write(snapshot_section("rollouts"))
    rollouts = _stream(stream, rollout_pages, _raw_items)
    stream.write(snapshot_end(table.names()))
    return SnapshotCounts(nodes, jobs, inventories, job_api_version, inventory_served, rollouts)


def _raw_items(body: bytes) -> list[Any]:
    return list(_PAGE.decode(body).items or ())


def _stream(stream: IO[bytes], pages: Iterable[bytes], items: Callable[[bytes], list[Any]]) -> int:
    written = 0
    for body in pages:
        for item in items(body):
            if written:
                stream.write(b",")
            stream.write(bytes(item))
            written += 1
    return written
