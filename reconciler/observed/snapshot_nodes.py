"""Nodes in a v1alpha2 fleet snapshot: the planner's node facts as they are, image names
normalized when the snapshot was written and stored once, in a table at the end of the document.

    {"name": "edge-1", "labels": {...}, "created": "2026-...Z", "ready": true,
     "images": [0, 4, 7], "reported": 3}

`images` are indices into the document's `imageNames`; `reported` is the node's count of
status.images entries (NodeFacts.images_reported). Reading is one typed decode and a lookup per
image, with no normalization: what makes a snapshot load faster than `plan --nodes` decodes
`kubectl get nodes -o json` (bench/snapshot.py). Pure: bytes in, values out.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from types import MappingProxyType
from typing import Annotated

import msgspec

from reconciler.observed.nodes import EDGE_ROLE_LABEL, NodeFacts

_EMPTY_LABELS: MappingProxyType[str, str] = MappingProxyType({})


class _Node(msgspec.Struct, omit_defaults=True):
    name: str
    labels: dict[str, str] | None = None
    created: datetime | None = None
    ready: bool = False
    images: list[Annotated[int, msgspec.Meta(ge=0)]] = msgspec.field(default_factory=list)
    reported: int = 0


class _Nodes(msgspec.Struct):
    items: list[_Node] = msgspec.field(default_factory=list)


_ENCODER = msgspec.json.Encoder()
_NODES = msgspec.json.Decoder(_Nodes)
_NAMES = msgspec.json.Decoder(list[str])


class ImageTable:
    """The image names a snapshot's nodes hold, each numbered once, in order of first use."""

    def __init__(self) -> None:
        self.index: dict[str, int] = {}

    def encode(self, nodes: Iterable[NodeFacts]) -> list[bytes]:
        """Each node as a snapshot item (JSON), its images numbered in this table."""
        index = self.index
        items = []
        for node in nodes:
            ids = sorted(index.setdefault(name, len(index)) for name in node.images)
            items.append(_ENCODER.encode(_Node(
                name=node.name, labels=dict(node.labels) or None, created=node.created,
                ready=node.ready, images=ids, reported=node.images_reported)))
        return items

    def names(self) -> bytes:
        """The table as the JSON list `imageNames` (index order)."""
        return _ENCODER.encode(list(self.index))


def decode_snapshot_nodes(nodes: bytes | msgspec.Raw, image_names: bytes | msgspec.Raw) -> list[NodeFacts]:
    """The node facts of a v1alpha2 snapshot's `nodes` and `imageNames` sections.

    Raises ValueError (msgspec.DecodeError is one) with a one-line reason for a malformed
    section or an image index outside the table."""
    table = _NAMES.decode(image_names)
    name_of = table.__getitem__
    facts = []
    try:
        for node in _NODES.decode(nodes).items:
            labels = node.labels
            facts.append(NodeFacts(
                name=node.name, labels=MappingProxyType(labels) if labels else _EMPTY_LABELS,
                ready=node.ready, edge=bool(labels) and EDGE_ROLE_LABEL in labels,  # type: ignore[operator]
                images=frozenset(map(name_of, node.images)), images_reported=node.reported,
                created=node.created))
    except IndexError:
        raise ValueError(f"an image index is outside imageNames ({len(table)} names)") from None
    return facts
