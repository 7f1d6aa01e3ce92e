"""The snapshot file format (observed/snapshot.py): a v1alpha2 snapshot and a v1alpha1 one
written before it decode to the node facts `plan --nodes` decodes from the same node list, and
a damaged image table is one clear line."""

from __future__ import annotations

import gzip
import io
from collections.abc import Callable
from datetime import UTC, datetime
from typing import IO, cast

import orjson
import pytest

from reconciler.kube.snapshot import stream_snapshot
from reconciler.observed import from_snapshots
from reconciler.observed.nodes import reduce_nodes
from reconciler.observed.snapshot import decode_snapshot

TAKEN_AT = datetime(2026, 12, 3, 7, 0, tzinfo=UTC)


def node(name: str, images: list[list[str]], *, labels: dict[str, str] | None = None,
         ready: str = "True") -> dict[str, object]:
    metadata: dict[str, object] = {"name": name, "creationTimestamp": "2026-11-01T10:00:00Z"}
    if labels is not None:
        metadata["labels"] = labels
    return {"metadata": metadata,
            "status": {"conditions": [{"type": "MemoryPressure", "status": "False"},
                                      {"type": "Ready", "status": ready}],
                       "images": [{"names": names, "sizeBytes": 1} for names in images]}}


NODE_LIST = orjson.dumps({"apiVersion": "v1", "kind": "List", "items": [
    node("edge-1", [["nginx:1.25", "docker.io/library/nginx@sha256:" + "a" * 64], ["Not A Ref!"]],
         labels={"node-role.kubernetes.io/edge": "", "site": "lyon"}),
    node("edge-2", [["registry.local:5000/vision/model:2"], ["nginx:1.25"]], ready="False"),
    node("edge-3", [], labels={}),
]})


def v1alpha2() -> bytes:
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as stream:
        stream_snapshot(cast(IO[bytes], stream), taken_at=TAKEN_AT,
                        job_api_version="operations.kubeedge.io/v1alpha2", inventory_served=False,
                        node_pages=[NODE_LIST], job_pages=(), inventory_pages=())
    return buffer.getvalue()


def v1alpha1() -> bytes:
    """A snapshot as the first format wrote it: nodes in node-list shape, names as reported."""
    items = b",".join(reduce_nodes(NODE_LIST))
    return gzip.compress(b'{"apiVersion":"edgefleet.io/v1alpha1","kind":"FleetSnapshot",'
                         b'"takenAt":"2026-12-03T07:00:00Z","jobApiVersion":"operations.kubeedge.io/v1alpha2",'
                         b'"inventoryServed":false,"nodes":{"items":[' + items + b']},'
                         b'"jobs":{"items":[]},"inventories":{"items":[]}}')


@pytest.mark.parametrize("written", [v1alpha2, v1alpha1])
def test_a_snapshot_holds_the_nodes_plan_nodes_decodes(written: Callable[[], bytes]) -> None:
    snapshot = decode_snapshot(written())
    expected = from_snapshots(NODE_LIST).nodes
    assert snapshot.facts.nodes == expected
    assert snapshot.taken_at == TAKEN_AT
    first = snapshot.facts.nodes[0]
    assert first.edge and first.ready and first.images_reported == 2
    assert "docker.io/library/nginx:1.25" in first.images  # normalized; the bad name skipped


def test_each_image_name_is_stored_once() -> None:
    document = orjson.loads(gzip.decompress(v1alpha2()))
    names = document["imageNames"]
    assert len(names) == len(set(names)) == 3
    assert "docker.io/library/nginx:1.25" in names and "Not A Ref!" not in names


@pytest.mark.parametrize("images", [[7], [-1]])
def test_an_image_index_outside_the_table_is_one_line(images: list[int]) -> None:
    document = orjson.loads(gzip.decompress(v1alpha2()))
    document["nodes"]["items"][0]["images"] = images
    with pytest.raises(ValueError) as error:
        decode_snapshot(orjson.dumps(document))
    assert str(error.value).startswith("nodes: ") and "\n" not in str(error.value)
