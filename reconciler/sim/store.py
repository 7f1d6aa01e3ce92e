"""CONTRACT (to be implemented): the embedded cluster's object store.

The API server emulator (`reconciler/sim/server.py`) serves this store over HTTP, and the
simulated KubeEdge (task manager, edge nodes, NodeGroup controller) reads and writes it
in-process through the same methods, so both see one consistent history of resourceVersions
and watch events.

Conventions:
- Objects are plain JSON-shaped dicts. What a method returns is the caller's to keep (a copy
  or an immutable snapshot); what a caller passes in is never kept by reference.
- `group` is "" for the core API. Resources are addressed by (group, plural); multi-version
  CRDs are stored once (at their storage version) and `apiVersion` is rewritten on read to the
  version asked for (CRD conversion strategy None).
- `namespace` is None for cluster-scoped resources.
- Every write bumps one global resourceVersion counter and emits one watch event.
- Errors are raised as `ApiError` carrying the HTTP code and the Kubernetes `reason`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

Obj = dict[str, Any]
EventType = Literal["ADDED", "MODIFIED", "DELETED", "BOOKMARK"]
PatchType = Literal["merge", "json", "strategic"]


class ApiError(Exception):
    """A Kubernetes API error: NotFound 404, AlreadyExists 409, Conflict 409, Invalid 422,
    Gone 410, BadRequest 400, MethodNotAllowed 405, TooManyRequests 429, InternalError 500."""

    def __init__(self, code: int, reason: str, message: str, details: Obj | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details or {}

    def status(self) -> Obj:
        """The `Status` object the API server answers with."""
        return {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "details": self.details,
            "code": self.code,
        }


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

    @property
    def list_kind(self) -> str:
        return self.kind + "List"


@dataclass(frozen=True)
class WatchEvent:
    type: EventType
    object: Obj  # for BOOKMARK: only metadata.resourceVersion is meaningful


class Store:
    """Thread-safe in-memory object store (see the module docstring for conventions)."""

    def register(self, rt: ResourceType) -> None:
        """Serve a resource type (CRD creation calls this; re-registering replaces it)."""
        raise NotImplementedError

    def resource(self, group: str, plural: str) -> ResourceType:
        """The registered type, or ApiError 404."""
        raise NotImplementedError

    def resources(self) -> list[ResourceType]:
        raise NotImplementedError

    def create(self, group: str, plural: str, obj: Obj, *, namespace: str | None = None,
               version: str | None = None, dry_run: bool = False,
               field_validation: str = "Ignore") -> Obj:
        """Create; sets uid, creationTimestamp, resourceVersion, generation=1; honours
        metadata.generateName. 409 AlreadyExists, 422 Invalid."""
        raise NotImplementedError

    def get(self, group: str, plural: str, name: str, *, namespace: str | None = None,
            version: str | None = None) -> Obj:
        raise NotImplementedError

    def list(self, group: str, plural: str, *, namespace: str | None = None,
             version: str | None = None, label_selector: str = "", field_selector: str = "",
             limit: int = 0, continue_token: str | None = None) -> tuple[list[Obj], str, str | None]:
        """(items, list resourceVersion, continue token or None)."""
        raise NotImplementedError

    def update(self, group: str, plural: str, obj: Obj, *, namespace: str | None = None,
               version: str | None = None, subresource: str | None = None,
               dry_run: bool = False, field_validation: str = "Ignore") -> Obj:
        """Replace. 409 Conflict when obj's resourceVersion is set and stale. On the main
        resource status is kept from storage; on `status` only status changes. generation
        bumps when spec changes."""
        raise NotImplementedError

    def patch(self, group: str, plural: str, name: str, patch: Any, patch_type: PatchType, *,
              namespace: str | None = None, version: str | None = None,
              subresource: str | None = None, dry_run: bool = False,
              field_validation: str = "Ignore") -> Obj:
        raise NotImplementedError

    def mutate(self, group: str, plural: str, name: str, fn: Callable[[Obj], None], *,
               namespace: str | None = None, subresource: str | None = None) -> Obj:
        """In-process read-modify-write under the store lock (for the simulated controllers):
        `fn` edits a private copy in place; the result is stored as an update would be."""
        raise NotImplementedError

    def delete(self, group: str, plural: str, name: str, *, namespace: str | None = None,
               version: str | None = None, dry_run: bool = False) -> Obj:
        """With finalizers: sets deletionTimestamp and returns the object (removal happens
        when the last finalizer is removed). Without: removes it and emits DELETED."""
        raise NotImplementedError

    def watch(self, group: str, plural: str, *, namespace: str | None = None,
              version: str | None = None, resource_version: str | None = None,
              label_selector: str = "", field_selector: str = "",
              bookmarks: bool = False) -> Iterator[WatchEvent]:
        """Events after resource_version (410 Gone if older than the bounded history). Without
        a resource_version: synthetic ADDED for every current object first. The iterator ends
        when closed (`.close()`)."""
        raise NotImplementedError

    def subscribe(self, callback: Callable[[str, ResourceType, Obj], None]) -> Callable[[], None]:
        """In-process notification after every committed write (type, resource, object);
        returns an unsubscribe function. Callbacks must be quick and must not write back
        synchronously (queue the work instead)."""
        raise NotImplementedError
