"""Nodes as the cluster reports them, reduced to the facts the planner reads.

Decoding is typed (msgspec) and selective: only names, labels, the Ready condition and image
names are materialized, so a 100,000-node list never exists as Python dicts (docs/design.md §5).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType

import msgspec

#: The label KubeEdge puts on the nodes it serves (docs/kubeedge.md §2.2, "Node selection").
EDGE_ROLE_LABEL = "node-role.kubernetes.io/edge"

#: Turns an image name as a node reports it into the normalized form; raises ValueError
#: (ImageRefError is one) for a name that is not a valid reference. Passed in by the caller
#: because `observed` sits beside `manifests` in the layers and may not import it.
ImageNormalizer = Callable[[str], str]


class _Metadata(msgspec.Struct, omit_defaults=True):
    name: str = ""
    labels: dict[str, str] | None = None
    creation_timestamp: datetime | None = msgspec.field(default=None, name="creationTimestamp")


class _Condition(msgspec.Struct):
    type: str = ""
    status: str = ""


class _Image(msgspec.Struct):
    names: list[str] | None = None


class _NodeStatus(msgspec.Struct):
    conditions: list[_Condition] | None = None
    images: list[_Image] | None = None


class _Node(msgspec.Struct):
    metadata: _Metadata = msgspec.field(default_factory=_Metadata)
    status: _NodeStatus = msgspec.field(default_factory=_NodeStatus)


class _NodeList(msgspec.Struct):
    items: list[_Node] | None = None


_LIST_DECODER = msgspec.json.Decoder(_NodeList)


@dataclass(frozen=True, slots=True)
class NodeFacts:
    """One node: name, labels, readiness, edge role and the images it reports holding.

    `images` holds normalized names (names that fail normalization are skipped);
    `images_reported` is the number of status.images entries, so a caller can tell a list that
    was cut at kubelet's `nodeStatusMaxImages` cap from a complete one. `created` is the
    node's creationTimestamp (None when the list lacks it): rollouts place late joiners by it.
    """

    name: str
    labels: Mapping[str, str]
    ready: bool
    edge: bool
    images: frozenset[str]
    images_reported: int
    created: datetime | None = None


_EMPTY_LABELS: Mapping[str, str] = MappingProxyType({})


def decode_nodes(data: bytes, *, normalize: ImageNormalizer) -> list[NodeFacts]:
    """Decode a node list: `kubectl get nodes -o json` (kind List), a NodeList, or one API page.

    Reads only metadata.name, metadata.labels, metadata.creationTimestamp, the Ready condition
    and status.images[].names.
    Each distinct image name is normalized once (`normalize`), so the cost is per distinct name,
    not per node. Raises msgspec.DecodeError (a ValueError) for bytes that are not such a list.
    """
    decoded = _LIST_DECODER.decode(data)
    cache: dict[str, str | None] = {}
    facts: list[NodeFacts] = []
    for node in decoded.items or ():
        labels = node.metadata.labels
        facts.append(
            NodeFacts(
                name=node.metadata.name,
                labels=MappingProxyType(labels) if labels else _EMPTY_LABELS,
                ready=_is_ready(node.status.conditions),
                edge=bool(labels) and EDGE_ROLE_LABEL in labels,  # type: ignore[operator]
                images=_normalized_images(node.status.images, normalize, cache),
                images_reported=len(node.status.images or ()),
                created=node.metadata.creation_timestamp,
            )
        )
    return facts


def _is_ready(conditions: list[_Condition] | None) -> bool:
    for condition in conditions or ():
        if condition.type == "Ready":
            return condition.status == "True"
    return False


def _normalized_images(
    images: list[_Image] | None, normalize: ImageNormalizer, cache: dict[str, str | None]
) -> frozenset[str]:
    if not images:
        return frozenset()
    out: set[str] = set()
    add = out.add
    lookup = cache.get
    for image in images:
        for raw in image.names or ():
            name = lookup(raw, _UNSEEN)
            if name is _UNSEEN:
                try:
                    name = normalize(raw)
                except ValueError:
                    name = None  # not a reference we could ever desire: skip it
                cache[raw] = name
            if name is not None:
                add(name)
    return frozenset(out)


_UNSEEN = "\0unseen"  # a sentinel no valid image name can equal


_ENCODER = msgspec.json.Encoder()


def reduce_nodes(data: bytes) -> list[bytes]:
    """Each node of a list page as JSON holding only what `decode_nodes` reads (name, labels,
    creation time, the Ready condition, image names): how a snapshot stores nodes in a tenth of
    their size.
    Raises msgspec.DecodeError (a ValueError) for bytes that are not a node list."""
    reduced = []
    for node in _LIST_DECODER.decode(data).items or ():
        ready = [c for c in node.status.conditions or () if c.type == "Ready"]
        node.status.conditions = ready or None
        reduced.append(_ENCODER.encode(node))
    return reduced
