"""The fleet snapshot file: everything `plan` reads from a cluster, in one gzip-compressed JSON
document, so CI can plan a pull request without cluster credentials (docs/review.md).

    {"apiVersion": "edgefleet.io/v1alpha1", "kind": "FleetSnapshot",
     "takenAt": "2026-12-03T07:00:00Z", "jobApiVersion": "operations.kubeedge.io/v1alpha2",
     "inventoryServed": true,
     "nodes": {"items": [...]}, "jobs": {"items": [...]}, "inventories": {"items": [...]},
     "rollouts": {"items": [...]}}

Nodes are reduced to the fields planning reads (observed.nodes.reduce_nodes); jobs and
inventories are kept whole (they are few, and unmanaged jobs are evidence too), and so are the
FleetRollouts (one per group with a rollout policy: the progress a PR plan gates by; a snapshot
written before they were carried has no `rollouts` and plans every rollout as new). Each list has
the shape of `kubectl get ... -o json`, so the snapshot decodes through `from_snapshots` and
plans exactly as the live cluster does. Pure: bytes in, values out (the writer is
kube/snapshot.py).
"""

from __future__ import annotations

import gzip
import zlib
from dataclasses import dataclass
from datetime import datetime

import msgspec

from reconciler.observed.cluster import ClusterFacts, from_snapshots

SNAPSHOT_API_VERSION = "edgefleet.io/v1alpha1"
SNAPSHOT_KIND = "FleetSnapshot"


class _Document(msgspec.Struct, rename="camel"):
    api_version: str = ""
    kind: str = ""
    taken_at: datetime | None = None
    job_api_version: str | None = None
    inventory_served: bool = False
    nodes: msgspec.Raw = msgspec.Raw(b'{"items":[]}')
    jobs: msgspec.Raw = msgspec.Raw(b'{"items":[]}')
    inventories: msgspec.Raw = msgspec.Raw(b'{"items":[]}')
    rollouts: msgspec.Raw = msgspec.Raw(b"")  # empty: a snapshot from before rollouts were kept


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A decoded snapshot: the cluster's facts and when they were read."""

    facts: ClusterFacts
    taken_at: datetime


def snapshot_header(*, taken_at: datetime, job_api_version: str, inventory_served: bool) -> bytes:
    """The document's opening up to the node list (`..."nodes":{"items":[`): a writer streams
    the items and closes it with `snapshot_section` and `snapshot_end`."""
    head = msgspec.json.encode({
        "apiVersion": SNAPSHOT_API_VERSION, "kind": SNAPSHOT_KIND,
        "takenAt": taken_at.isoformat().replace("+00:00", "Z"),
        "jobApiVersion": job_api_version, "inventoryServed": inventory_served,
    })
    return head[:-1] + b',"nodes":{"items":['


def snapshot_section(name: str) -> bytes:
    """Closes the list before and opens the list `name` ("jobs", "inventories", "rollouts")."""
    return b']},"' + name.encode() + b'":{"items":['


SNAPSHOT_END = b"]}}"


def decode_snapshot(data: bytes) -> Snapshot:
    """Decode a snapshot file's bytes (gzip-compressed or plain JSON).

    Raises ValueError with a one-line reason for bytes that are not a FleetSnapshot.
    """
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as error:
            raise ValueError(f"not a readable gzip file: {error}") from error
    document = msgspec.json.decode(data, type=_Document)
    if document.kind != SNAPSHOT_KIND or document.api_version != SNAPSHOT_API_VERSION:
        raise ValueError(f"not an {SNAPSHOT_API_VERSION} {SNAPSHOT_KIND} (kind {document.kind!r}, "
                         f"apiVersion {document.api_version!r}); take one with `edgefleet snapshot`")
    if document.taken_at is None or document.taken_at.tzinfo is None:
        raise ValueError("takenAt is missing or has no time zone")
    facts = from_snapshots(bytes(document.nodes), bytes(document.jobs),
                           bytes(document.inventories) if document.inventory_served else None,
                           job_api_version=document.job_api_version,
                           rollouts=bytes(document.rollouts) or None)
    return Snapshot(facts=facts, taken_at=document.taken_at)
