"""The fleet snapshot file: everything `plan` reads from a cluster, in one gzip-compressed JSON
document, so CI can plan a pull request without cluster credentials (docs/review.md).

    {"apiVersion": "edgefleet.io/v1alpha2", "kind": "FleetSnapshot",
     "takenAt": "2026-12-03T07:00:00Z", "jobApiVersion": "operations.kubeedge.io/v1alpha2",
     "inventoryServed": true,
     "nodes": {"items": [...]}, "jobs": {"items": [...]}, "inventories": {"items": [...]},
     "rollouts": {"items": [...]}, "imageNames": [...]}

Nodes are the planner's node facts, image names normalized and numbered in `imageNames`
(observed/snapshot_nodes.py), so reading does not normalize again. A v1alpha1 snapshot (nodes
reduced to the `kubectl get nodes -o json` fields planning reads, observed.nodes.reduce_nodes,
no `imageNames`) still reads, as `plan --nodes` decodes a node list. Jobs and
inventories are kept whole (they are few, and unmanaged jobs are evidence too), and so are the
FleetRollouts (one per group with a rollout policy: the progress a PR plan gates by; a snapshot
written before they were carried has no `rollouts` and plans every rollout as new). Each list has
the shape of `kubectl get ... -o json`, so the snapshot decodes through `from_snapshots` and
plans exactly as the live cluster does. Pure: bytes in, values out (the writer is
kube/snapshot.py).
"""

from __future__ import annotations

import dataclasses
import zlib
from dataclasses import dataclass
from datetime import datetime

import msgspec

from reconciler.observed.cluster import ClusterFacts, from_snapshots
from reconciler.observed.snapshot_nodes import decode_snapshot_nodes

SNAPSHOT_API_VERSION = "edgefleet.io/v1alpha2"
#: The first format: nodes kept in the shape of a node list, image names as nodes report them.
_V1ALPHA1 = "edgefleet.io/v1alpha1"
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
    image_names: msgspec.Raw = msgspec.Raw(b"[]")  # v1alpha2: the table the nodes' images index


_DOCUMENT = msgspec.json.Decoder(_Document)


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


def snapshot_end(image_names: bytes) -> bytes:
    """Closes the last list and the document, after the image table (a JSON list of names)."""
    return b']},"imageNames":' + image_names + b"}"


def decode_snapshot(data: bytes) -> Snapshot:
    """Decode a snapshot file's bytes (gzip-compressed or plain JSON).

    Raises ValueError with a one-line reason for bytes that are not a FleetSnapshot.
    """
    if data[:2] == b"\x1f\x8b":
        try:  # in one call: faster than streaming through GzipFile
            data = zlib.decompress(data, wbits=31)
        except zlib.error as error:
            raise ValueError(f"not a readable gzip file: {error}") from error
    document = _DOCUMENT.decode(data)
    if document.kind != SNAPSHOT_KIND or document.api_version not in (SNAPSHOT_API_VERSION, _V1ALPHA1):
        raise ValueError(f"not an {SNAPSHOT_API_VERSION} {SNAPSHOT_KIND} (kind {document.kind!r}, "
                         f"apiVersion {document.api_version!r}); take one with `edgefleet snapshot`")
    if document.taken_at is None or document.taken_at.tzinfo is None:
        raise ValueError("takenAt is missing or has no time zone")
    v1alpha1 = document.api_version == _V1ALPHA1
    facts = from_snapshots(bytes(document.nodes) if v1alpha1 else b'{"items":[]}', bytes(document.jobs),
                           bytes(document.inventories) if document.inventory_served else None,
                           job_api_version=document.job_api_version,
                           rollouts=bytes(document.rollouts) or None)
    if not v1alpha1:
        try:
            nodes = decode_snapshot_nodes(document.nodes, document.image_names)
        except ValueError as error:
            raise ValueError(f"nodes: {error}") from error
        facts = dataclasses.replace(facts, nodes=nodes)
    return Snapshot(facts=facts, taken_at=document.taken_at)
