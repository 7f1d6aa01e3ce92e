"""The value types of the embedded API server's store: a served resource type, a watch event,
and the per-type table of stored records. Shared by the store's read side (store.py) and its
write side (writes.py), so that neither imports the other's module for its types."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from reconciler.sim.apiserver.errors import Obj
from reconciler.sim.apiserver.stored import Record

EventType = Literal["ADDED", "MODIFIED", "DELETED", "BOOKMARK"]
PatchType = Literal["merge", "json", "strategic", "apply"]
Subscriber = Callable[[str, "ResourceType", Obj], None]


@dataclass(frozen=True)
class ResourceType:
    """A served resource: built-in or defined by a CRD."""

    group: str
    versions: tuple[str, ...]  # served versions
    storage_version: str
    plural: str
    singular: str
    kind: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    has_status: bool = False  # a /status subresource exists
    # openAPIV3Schema per version (for CRDs: validation, pruning, Strict field validation)
    schemas: dict[str, Obj] = field(default_factory=dict)
    # built-in types keep `status` given on create (kubelets register Nodes with status);
    # custom resources with a status subresource drop it, as the API server does
    keep_status_on_create: bool = False
    # a CRD version's additionalPrinterColumns (the columns `kubectl get` prints), per version
    printer_columns: dict[str, tuple[Obj, ...]] = field(default_factory=dict)

    @property
    def list_kind(self) -> str:
        return self.kind + "List"

    @property
    def is_custom(self) -> bool:
        """Defined by a CRD (has a schema): strict validation, no strategic merge patch."""
        return bool(self.schemas)

    def api_version(self, version: str) -> str:
        return f"{self.group}/{version}" if self.group else version


@dataclass(frozen=True)
class WatchEvent:
    type: EventType
    object: Obj  # for BOOKMARK: only metadata.resourceVersion is meaningful


class Table:
    """The objects of one resource type, with a lazily rebuilt sorted key list for paging."""

    def __init__(self, rt: ResourceType) -> None:
        self.rt = rt
        self.records: dict[str, Record] = {}
        self._sorted: list[str] | None = []

    def put(self, record: Record) -> None:
        if record.key not in self.records:
            self._sorted = None
        self.records[record.key] = record

    def remove(self, key: str) -> None:
        del self.records[key]
        self._sorted = None

    def sorted_keys(self) -> list[str]:
        if self._sorted is None:
            self._sorted = sorted(self.records)
        return self._sorted
