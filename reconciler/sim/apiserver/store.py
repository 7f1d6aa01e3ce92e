"""The embedded cluster's object store.

The API server emulator (`reconciler/sim/apiserver/server.py`) serves this store over HTTP, and the
simulated KubeEdge (task manager, edge nodes, NodeGroup controller) reads and writes it
in-process through the same methods, so both see one consistent history of resourceVersions
and watch events.

Conventions:
- Objects are plain JSON-shaped dicts. What a method returns is the caller's to keep (a fresh
  dict parsed from the stored bytes); what a caller passes in is never kept by reference.
- `group` is "" for the core API. Resources are addressed by (group, plural); multi-version
  CRDs are stored once and `apiVersion` is rewritten on read to the version asked for (CRD
  conversion strategy None). `version=None` means the storage version.
- `namespace` is None for cluster-scoped resources.
- Every write bumps one global resourceVersion counter and emits one watch event; a write that
  changes nothing (an update equal to the stored object) is a no-op, as in Kubernetes.
- Errors are raised as `ApiError` carrying the HTTP code and the Kubernetes `reason`.
- Objects are held as immutable serialized bytes (`records.Record`); the `*_bytes` methods hand
  those to the HTTP server without parsing.
- A custom resource read (get, list, watch) at a version other than the storage version is
  pruned against that version's schema, as the API server prunes after a conversion of
  strategy None (a v1alpha2 job read at v1alpha1 shows no status.phase). Pruned renderings are
  cached per version and object version; core types are never pruned.

Approximations: a continued list pages through the *current* objects after the last key (not
an MVCC snapshot); the token expires (410) once its list version leaves the event history of
its type. The event history is bounded per type (`history` events each).
Watches with a label selector do not synthesise DELETED when an object stops matching.
"""

from __future__ import annotations

import bisect
import builtins
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from functools import partial

import orjson

from reconciler.sim.apiserver.errors import ApiError, Obj, not_found
from reconciler.sim.apiserver.resource_types import (
    EventType,
    PatchType,
    ResourceType,
    Subscriber,
    Table,
    WatchEvent,
)
from reconciler.sim.apiserver.selectors import parse_field_selector, parse_label_selector
from reconciler.sim.apiserver.stored import (
    Record,
    decode,
    decode_continue,
    encode_continue,
    object_key,
    render,
)
from reconciler.sim.apiserver.stored import type_prefix as _type_prefix
from reconciler.sim.apiserver.versions import PrunedCache, pruning_view
from reconciler.sim.apiserver.watching import EventLog, LoggedEvent, TableKey, WatchFilter
from reconciler.sim.apiserver.writes import Writes

__all__ = ["ApiError", "EventType", "Obj", "PatchType", "ResourceType", "Store", "WatchEvent"]

def _utc_now() -> datetime:
    return datetime.now(UTC)


class Store:
    """Thread-safe in-memory object store (see the module docstring for conventions).

    `now` is the clock for creationTimestamp/deletionTimestamp; `history` bounds the event
    history watches resume from; `seed` makes uids reproducible; `bookmark_interval` is how long
    a watch with bookmarks stays idle before it gets a BOOKMARK."""

    def __init__(self, *, now: Callable[[], datetime] = _utc_now, history: int = 10_000,
                 seed: int | None = None, bookmark_interval: float = 5.0) -> None:
        self._lock = threading.RLock()
        # The write half, composed: it commits through this store's table and event log.
        writes = Writes(self, now=now, seed=seed)
        self.create, self.update, self.patch = writes.create, writes.update, writes.patch
        self.mutate, self.delete = writes.mutate, writes.delete
        self.add_hooks, self.now = writes.add_hooks, writes.now
        self._cond = threading.Condition(self._lock)
        self._log = EventLog(self._cond, history)
        self._tables: dict[TableKey, Table] = {}
        self._prefixes: dict[tuple[str, str, str], bytes] = {}
        self._pruned: dict[tuple[str, str, str], PrunedCache] = {}
        self._subscribers: list[Subscriber] = []
        self.bookmark_interval = bookmark_interval

    # ----- resource types -----

    def register(self, rt: ResourceType) -> None:
        """Serve a resource type (CRD creation calls this; re-registering replaces it and keeps
        the objects)."""
        with self._lock:
            key = (rt.group, rt.plural)
            table = self._tables.get(key)
            if table is None:
                self._tables[key] = Table(rt)
            else:
                table.rt = rt
            self._prefixes = {k: v for k, v in self._prefixes.items() if k[:2] != key}
            self._pruned = {k: v for k, v in self._pruned.items() if k[:2] != key}

    def unregister(self, group: str, plural: str) -> None:
        """Stop serving a type and drop its objects (CRD deletion). Unknown types are ignored."""
        with self._lock:
            self._tables.pop((group, plural), None)

    def resource(self, group: str, plural: str) -> ResourceType:
        """The registered type, or ApiError 404."""
        return self._table(group, plural).rt

    def resources(self) -> list[ResourceType]:
        """Every served type, in registration order."""
        with self._lock:
            return [t.rt for t in self._tables.values()]

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        """In-process notification after every committed write (type, resource, object), in
        resourceVersion order, called under the store lock; returns an unsubscribe function.
        Callbacks must be quick and must not write back synchronously (queue the work instead).
        Each callback gets its own copy of the object."""
        with self._lock:
            self._subscribers.append(callback)

        def unsubscribe() -> None:
            with self._lock:
                if callback in self._subscribers:
                    self._subscribers.remove(callback)

        return unsubscribe

    @property
    def resource_version(self) -> str:
        """The current global resourceVersion."""
        with self._lock:
            return str(self._log.current_rv)

    # ----- reads -----

    def get(self, group: str, plural: str, name: str, *, namespace: str | None = None,
            version: str | None = None) -> Obj:
        """The object, or ApiError 404."""
        result: Obj = orjson.loads(self.get_bytes(group, plural, name, namespace=namespace,
                                                  version=version))
        return result

    def get_bytes(self, group: str, plural: str, name: str, *, namespace: str | None = None,
                  version: str | None = None) -> bytes:
        """The object's JSON bytes at `version`, or ApiError 404."""
        with self._lock:
            table = self._table(group, plural)
            view = self._view(table, version)
            record = table.records.get(object_key(name, self._ns(table.rt, namespace)))
            if record is None:
                raise not_found(plural, group, name)
            return view(record)

    def list(self, group: str, plural: str, *, namespace: str | None = None,
             version: str | None = None, label_selector: str = "", field_selector: str = "",
             limit: int = 0, continue_token: str | None = None,
             ) -> tuple[builtins.list[Obj], str, str | None]:
        """(items, list resourceVersion, continue token or None). ApiError 400 on a bad
        selector or token, 410 Expired on a continue token older than the event history."""
        raw, rv, token = self.list_bytes(group, plural, namespace=namespace, version=version,
                                         label_selector=label_selector,
                                         field_selector=field_selector, limit=limit,
                                         continue_token=continue_token)
        return [orjson.loads(b) for b in raw], rv, token

    def list_bytes(self, group: str, plural: str, *, namespace: str | None = None,
                   version: str | None = None, label_selector: str = "", field_selector: str = "",
                   limit: int = 0, continue_token: str | None = None,
                   ) -> tuple[builtins.list[bytes], str, str | None]:
        """As `list`, with each item as JSON bytes."""
        labels = parse_label_selector(label_selector)
        fields = parse_field_selector(field_selector)
        with self._lock:
            table = self._table(group, plural)
            view = self._view(table, version)
            list_rv = self._log.current_rv
            keys = table.sorted_keys()
            ns = self._ns(table.rt, namespace) if namespace is not None else None
            low = bisect.bisect_left(keys, f"{ns}/") if ns is not None else 0
            if continue_token:
                list_rv, last_key = decode_continue(continue_token)
                if list_rv < self._log.dropped_rv((group, plural)):
                    raise ApiError(410, "Expired", "The provided continue parameter is too old to "
                                   "display a consistent list result. You can start a new list "
                                   "without the continue parameter.")
                low = max(low, bisect.bisect_right(keys, last_key))
            items: builtins.list[Record] = []
            token: str | None = None
            records = table.records
            for i in range(low, len(keys)):
                record = records[keys[i]]
                if ns is not None and record.namespace != ns:
                    break
                if labels is not None and not labels(record.labels):
                    continue
                if fields is not None and not fields(record.name, record.namespace,
                                                         partial(decode, record)):
                    continue
                if limit > 0 and len(items) == limit:
                    token = encode_continue(list_rv, items[-1].key)
                    break
                items.append(record)
            return [view(r) for r in items], str(list_rv), token

    # ----- watch -----

    def watch(self, group: str, plural: str, *, namespace: str | None = None,
              version: str | None = None, resource_version: str | None = None,
              label_selector: str = "", field_selector: str = "",
              bookmarks: bool = False, timeout: float | None = None,
              stop: threading.Event | None = None) -> Iterator[WatchEvent]:
        """Events after resource_version (ApiError 410 now if it is older than the bounded
        history; raised from the iterator if the watcher later falls behind). Without a
        resource_version (or "0"): synthetic ADDED for every current object first. The iterator
        ends after `timeout` seconds, when `stop` is set, or when closed (`.close()`)."""
        stream = self.watch_bytes(group, plural, namespace=namespace, version=version,
                                  resource_version=resource_version,
                                  label_selector=label_selector, field_selector=field_selector,
                                  bookmarks=bookmarks, timeout=timeout, stop=stop)

        def events() -> Iterator[WatchEvent]:
            for kind, raw in stream:
                yield WatchEvent(kind, orjson.loads(raw))  # type: ignore[arg-type]

        return events()

    def watch_bytes(self, group: str, plural: str, *, namespace: str | None = None,
                    version: str | None = None, resource_version: str | None = None,
                    label_selector: str = "", field_selector: str = "",
                    bookmarks: bool = False, timeout: float | None = None,
                    stop: threading.Event | None = None, send_initial_events: bool = False,
                    ) -> Iterator[tuple[str, bytes]]:
        """As `watch`, yielding (event type, object JSON bytes). `send_initial_events` (the
        WatchList protocol of client-go's reflectors) sends the current objects as ADDED whatever
        the resource_version, then a BOOKMARK annotated `k8s.io/initial-events-end: "true"`."""
        labels = parse_label_selector(label_selector)
        fields = parse_field_selector(field_selector)
        with self._lock:
            table = self._table(group, plural)
            rt = table.rt
            view = self._view(table, version)
            ns = self._ns(rt, namespace) if namespace is not None else None
            flt = WatchFilter((rt.group, rt.plural), ns, labels, fields)
            initial: builtins.list[Record] = []
            if send_initial_events or resource_version in (None, "", "0"):
                start = self._log.current_rv
                initial = [r for r in table.records.values() if flt.matches(flt.table, r)]
            else:
                try:
                    start = int(resource_version)  # type: ignore[arg-type]
                except ValueError:
                    raise ApiError(400, "BadRequest",
                                   f"invalid resource version {resource_version!r}") from None
                self._log.check_resume((rt.group, rt.plural), start)
        follow = self._log.follow(start, flt, bookmarks=bookmarks,
                                  bookmark_interval=self.bookmark_interval, timeout=timeout,
                                  stop=stop)
        bookmark_prefix = _type_prefix(rt.api_version(version or rt.storage_version), rt.kind)

        def events() -> Iterator[tuple[str, bytes]]:
            for record in initial:
                yield "ADDED", view(record)
            if send_initial_events:
                meta = orjson.dumps({"resourceVersion": str(start),
                                     "annotations": {"k8s.io/initial-events-end": "true"}})
                yield "BOOKMARK", bookmark_prefix + b'"metadata":' + meta + b"}"
            for kind, item in follow:
                if isinstance(item, Record):
                    yield kind, view(item)
                else:
                    meta = orjson.dumps({"resourceVersion": str(item)})
                    yield kind, bookmark_prefix + b'"metadata":' + meta + b"}"

        return events()

    # ----- internals shared with WriteOps -----

    def _table(self, group: str, plural: str) -> Table:
        with self._lock:
            table = self._tables.get((group, plural))
        if table is None:
            raise ApiError(404, "NotFound", f"the server could not find the requested resource "
                           f"({plural}.{group or 'core'})")
        return table

    def _ns(self, rt: ResourceType, namespace: str | None) -> str | None:
        if not rt.namespaced:
            return None
        if not namespace:
            raise ApiError(400, "BadRequest", f"{rt.plural} is namespaced: a namespace is required")
        return namespace

    def _prefix(self, rt: ResourceType, version: str | None) -> bytes:
        v = version or rt.storage_version
        key = (rt.group, rt.plural, v)
        prefix = self._prefixes.get(key)
        if prefix is None:
            if v not in rt.versions:
                raise ApiError(404, "NotFound", f"the server could not find the requested resource "
                               f"({rt.plural}.{v}.{rt.group or 'core'})")
            prefix = self._prefixes[key] = _type_prefix(rt.api_version(v), rt.kind)
        return prefix

    def _view(self, table: Table, version: str | None) -> Callable[[Record], bytes]:
        """How records of `table` are shown at `version` (404 for a version not served): as
        stored for core types and the storage version, else pruned to that version's schema."""
        rt = table.rt
        prefix = self._prefix(rt, version)
        schema = rt.schemas.get(version or rt.storage_version)
        if not rt.is_custom or version in (None, rt.storage_version) or not schema:
            return partial(render, prefix)
        cache = self._pruned.setdefault((rt.group, rt.plural, str(version)), {})
        return pruning_view(prefix, schema, cache, table.records)

    def _commit(self, table: Table, event: str, record: Record, removed: bool = False) -> None:
        """Store a new version (lock held): bump nothing here; `record.rv` is the new rv."""
        if removed:
            table.remove(record.key)
        else:
            table.put(record)
        self._log.append(LoggedEvent(record.rv, event, (table.rt.group, table.rt.plural), record))
        if self._subscribers:
            prefix = self._prefix(table.rt, None)
            for callback in list(self._subscribers):
                callback(event, table.rt, orjson.loads(render(prefix, record)))

    def _next_rv(self) -> int:
        return self._log.current_rv + 1

    def _namespace_exists(self, namespace: str) -> bool:
        table = self._tables.get(("", "namespaces"))
        return table is None or namespace in table.records

