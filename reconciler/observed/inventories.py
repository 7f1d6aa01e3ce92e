"""EdgeNodeInventory objects (edgefleet.io/v1alpha1) as the cluster reports them.

One object per node (cluster-scoped, name = node name). Its status is the evidence edgefleet
keeps after the jobs that carried it are garbage-collected (docs/design.md §3).
"""

from __future__ import annotations

import msgspec


class InventoryImage(msgspec.Struct, frozen=True, order=True, rename="camel"):
    """A confirmed (node, image) pair: who confirmed it (`source`) and when (RFC 3339)."""

    image: str
    source: str = ""
    observed_at: str = ""


class InventoryFailure(msgspec.Struct, frozen=True, order=True, rename="camel"):
    """Failed pulls of one image on one node.

    `last_attempt` is the creation time of the newest job read for this pair and `last_job` its
    name: a job is counted only if it is newer than (last_attempt, last_job), so reading the same
    job twice never counts twice. The pair is also remembered with `attempts` 0 once it is
    present again or no longer desired, and after an operator resets `attempts` to 0: the marker
    stays so that old jobs are not counted again. `retry_after` is when backoff ends;
    `pulled_with` says what the pair was pulled with (secret and pull policy, empty for the
    defaults): when the manifest changes it, the attempts start again.
    """

    image: str
    attempts: int = 0
    last_error: str = ""
    last_attempt: str = ""
    last_job: str = ""
    retry_after: str = ""
    pulled_with: str = ""


class AgentImage(msgspec.Struct, frozen=True, rename="camel"):
    """One normalized reference an edge agent found in the node's runtime (docs/agent.md)."""

    image: str
    digest: str = ""
    size_bytes: int = 0


class AgentStatus(msgspec.Struct, frozen=True, rename="camel"):
    """`status.agent`: the node's own complete inventory, written by `edgefleet agent` alone
    (the reconciler reads it and never writes it; unread keys such as `runtime` are ignored)."""

    images: tuple[AgentImage, ...] = ()
    image_fs_used_bytes: int | None = None
    image_fs_capacity_bytes: int | None = None
    complete: bool = False
    observed_at: str = ""
    content_hash: str = ""


class InventoryStatus(msgspec.Struct, frozen=True, rename="camel"):
    """`images` and `failures` are the reconciler's; `agent` is the edge agent's, read only."""

    images: tuple[InventoryImage, ...] = ()
    failures: tuple[InventoryFailure, ...] = ()
    agent: AgentStatus | None = None


class _Metadata(msgspec.Struct, frozen=True, rename="camel"):
    name: str = ""
    resource_version: str = ""


class InventoryFacts(msgspec.Struct, frozen=True, rename="camel"):
    """One EdgeNodeInventory object: node name, resourceVersion and status."""

    metadata: _Metadata = msgspec.field(default_factory=_Metadata)
    status: InventoryStatus = msgspec.field(default_factory=InventoryStatus)

    @property
    def name(self) -> str:
        return self.metadata.name

    @property
    def resource_version(self) -> str:
        return self.metadata.resource_version


class _InventoryList(msgspec.Struct, rename="camel"):
    items: list[InventoryFacts] | None = None


_LIST_DECODER = msgspec.json.Decoder(_InventoryList)


def decode_inventories(data: bytes) -> list[InventoryFacts]:
    """Decode a list of EdgeNodeInventory objects (kind List, EdgeNodeInventoryList or one API
    page). Raises msgspec.DecodeError (a ValueError) on bytes that are not such a list."""
    return list(_LIST_DECODER.decode(data).items or ())


def inventory_from_object(obj: object) -> InventoryFacts:
    """Convert an already-parsed EdgeNodeInventory object. Raises msgspec.ValidationError."""
    return msgspec.convert(obj, InventoryFacts)
