"""What the embedded API server was asked: requests counted by verb and resource, and the names
of the objects created, so tests and `make chaos` can say "0 requests in steady state" or
"each job was created by exactly one request" from the server's side, not the client's."""

from __future__ import annotations

import threading
from collections import Counter


class RequestCounts:
    """Thread-safe counts of the requests served. `resource` is the plural ("nodes",
    "imageprepulljobs") or "discovery" for the non-resource endpoints (/apis, /openapi, ...)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_key: Counter[tuple[str, str]] = Counter()
        self._creates: Counter[tuple[str, str]] = Counter()

    def record(self, verb: str, resource: str) -> None:
        """Count one request (before any injected fault answers it)."""
        with self._lock:
            self._by_key[(verb, resource)] += 1

    def record_create(self, resource: str, name: str | None) -> None:
        """Count a create that reached the store (no injected fault answered it), by name."""
        if name:
            with self._lock:
                self._creates[(resource, name)] += 1

    def total(self, *, excluding: frozenset[str] = frozenset()) -> int:
        """Requests served, except those on the resources in `excluding` (e.g. "leases")."""
        with self._lock:
            return sum(n for (_, resource), n in self._by_key.items() if resource not in excluding)

    def by_key(self) -> dict[tuple[str, str], int]:
        """A copy of the counts by (verb, resource)."""
        with self._lock:
            return dict(self._by_key)

    def writes(self, *, excluding: frozenset[str] = frozenset()) -> int:
        """Create, update, patch and delete requests, except on the resources in `excluding`."""
        verbs = {"create", "update", "patch", "delete", "deletecollection"}
        with self._lock:
            return sum(n for (verb, resource), n in self._by_key.items()
                       if verb in verbs and resource not in excluding)

    def creates_of(self, resource: str) -> dict[str, int]:
        """How many creates that reached the store named each object of `resource` (dry runs
        included; a second one of a name is answered 409 AlreadyExists)."""
        with self._lock:
            return {name: n for (kind, name), n in self._creates.items() if kind == resource}
