"""The write half of the Store: create, update (main resource or `status`), patch, mutate,
delete, with the API server's metadata rules (uid, creationTimestamp, generation bumped on spec
changes only, resourceVersion preconditions, finalizers and deletionTimestamp, generateName)
and, for custom resources, structural pruning or Strict field validation.

Per-type hooks let resources.py give a type server-side behaviour (a CRD registering its type):
`prepare(new, old)` edits the object about to be stored (may raise ApiError); `after(event,
obj)` runs under the lock once the write is committed.
"""

from __future__ import annotations

import random
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import orjson

from reconciler.sim.apiserver.errors import ApiError, Obj, already_exists, conflict, invalid, not_found
from reconciler.sim.apiserver.patching import json_patch, merge_patch, strategic_merge_patch
from reconciler.sim.apiserver.resource_types import PatchType, ResourceType, Table
from reconciler.sim.apiserver.schema import check_object
from reconciler.sim.apiserver.stored import Record, encode, object_key, render, validate_name

_SUFFIX_CHARS = "bcdfghjklmnpqrstvwxz2456789"
_SERVER_SET = ("uid", "creationTimestamp", "generation", "deletionTimestamp",
               "deletionGracePeriodSeconds", "resourceVersion", "selfLink")
_IMMUTABLE = ("uid", "creationTimestamp", "namespace", "name", "generation", "deletionTimestamp",
              "deletionGracePeriodSeconds")


@dataclass(frozen=True)
class Hooks:
    prepare: Callable[[Obj, Obj | None], None] | None = None
    after: Callable[[str, Obj], None] | None = None


def _own(obj: Any) -> Obj:
    """A private deep copy of a JSON-shaped dict (also proves it is JSON)."""
    if not isinstance(obj, dict):
        raise ApiError(400, "BadRequest", "the request body must be a JSON object")
    try:
        result: Obj = orjson.loads(orjson.dumps(obj))
    except TypeError as exc:
        raise ApiError(400, "BadRequest", f"object is not valid JSON: {exc}") from None
    return result


def _spec_part(obj: Obj) -> Obj:
    return {k: v for k, v in obj.items() if k not in ("metadata", "status", "apiVersion", "kind")}


class StoreState(Protocol):
    """What the write half needs of the store it writes to: its lock, its tables and the
    commit of a record into the table and the event log (store.Store provides these)."""

    _lock: threading.RLock

    def _table(self, group: str, plural: str) -> Table: ...
    def _ns(self, rt: ResourceType, namespace: str | None) -> str | None: ...
    def _prefix(self, rt: ResourceType, version: str | None) -> bytes: ...
    def _commit(self, table: Table, event: str, record: Record, removed: bool = False) -> None: ...
    def _next_rv(self) -> int: ...
    def _namespace_exists(self, namespace: str) -> bool: ...


class Writes:
    """The store's write operations, given the store state they commit to."""

    def __init__(self, state: StoreState, *, now: Callable[[], datetime], seed: int | None) -> None:
        self._state = state
        self._now = now
        self._rng = random.Random(seed)
        self._hooks: dict[tuple[str, str], Hooks] = {}

    def add_hooks(self, group: str, plural: str, *,
                  prepare: Callable[[Obj, Obj | None], None] | None = None,
                  after: Callable[[str, Obj], None] | None = None) -> None:
        """Give a resource type server-side behaviour (see the module docstring)."""
        self._hooks[(group, plural)] = Hooks(prepare, after)

    def now(self) -> datetime:
        """The store's clock (creationTimestamp, deletionTimestamp, table ages)."""
        return self._now()

    def _timestamp(self) -> str:
        return self._now().strftime("%Y-%m-%dT%H:%M:%SZ")

    def _validated(self, rt: ResourceType, version: str, obj: Obj, field_validation: str,
                   warnings: list[str] | None) -> Obj:
        if not rt.is_custom:
            return obj
        strict = field_validation == "Strict"
        out, report = check_object(obj, rt.schemas.get(version), prune=not strict)
        if report.unknown and strict:
            fields = ", ".join(f'unknown field "{p}"' for p in report.unknown)
            raise ApiError(400, "BadRequest", f'{rt.kind} in version "{version}" cannot be handled '
                           f"as a {rt.kind}: strict decoding error: {fields}")
        if report.unknown and field_validation == "Warn" and warnings is not None:
            warnings.extend(f'unknown field "{p}"' for p in report.unknown)
        if report.invalid:
            name = (obj.get("metadata") or {}).get("name", "")
            raise invalid(rt.kind, rt.group, name, report.invalid)
        return out

    def _shown(self, rt: ResourceType, version: str, obj: Obj) -> Obj:
        """A write's answer at the request's version: a custom resource written at another
        version than the storage one is pruned to that version's schema, as reads are."""
        schema = rt.schemas.get(version)
        if not rt.is_custom or version == rt.storage_version or not schema:
            return obj
        return check_object(obj, schema, prune=True)[0]

    def create(self, group: str, plural: str, obj: Obj, *, namespace: str | None = None,
               version: str | None = None, dry_run: bool = False,
               field_validation: str = "Ignore", warnings: list[str] | None = None) -> Obj:
        """Create; sets uid, creationTimestamp, resourceVersion, generation=1; honours
        metadata.generateName. 409 AlreadyExists, 422 Invalid, 404 for a missing namespace,
        400 for unknown fields under Strict (as the API server's strict decoding does).
        Unknown fields become `warnings` under "Warn"."""
        own = _own(obj)
        with self._state._lock:
            table = self._state._table(group, plural)
            rt = table.rt
            v = version or rt.storage_version
            prefix = self._state._prefix(rt, v)
            meta_in: Obj = own["metadata"] if isinstance(own.get("metadata"), dict) else {}
            body_ns = meta_in.get("namespace") or None
            if namespace and body_ns and body_ns != namespace and rt.namespaced:
                raise ApiError(400, "BadRequest", "the namespace of the provided object does not "
                               "match the namespace sent on the request")
            ns = self._state._ns(rt, namespace or body_ns)
            new = self._validated(rt, v, own, field_validation, warnings)
            meta = new["metadata"] = dict(new.get("metadata") or {})
            for key in _SERVER_SET:
                meta.pop(key, None)
            if ns is None:
                meta.pop("namespace", None)
            else:
                if not self._state._namespace_exists(ns):
                    raise not_found("namespaces", "", ns)
                meta["namespace"] = ns
            if not meta.get("name") and meta.get("generateName"):
                meta["name"] = meta["generateName"] + "".join(
                    self._rng.choice(_SUFFIX_CHARS) for _ in range(5))
            causes = validate_name(meta.get("name"), rt.kind)
            if causes:
                raise invalid(rt.kind, rt.group, str(meta.get("name") or ""), causes)
            if object_key(meta["name"], ns) in table.records:
                raise already_exists(plural, group, meta["name"])
            if rt.has_status and not rt.keep_status_on_create:
                new.pop("status", None)
            rv = self._state._next_rv()
            meta["uid"] = str(uuid.UUID(int=self._rng.getrandbits(128), version=4))
            meta["creationTimestamp"] = self._timestamp()
            meta["generation"] = 1
            meta["resourceVersion"] = str(rv)
            new["apiVersion"], new["kind"] = rt.api_version(v), rt.kind
            hooks = self._hooks.get((group, plural))
            if hooks and hooks.prepare:
                hooks.prepare(new, None)
            record = encode(new, rv)
            if dry_run:
                return self._shown(rt, v, _fresh(prefix, record))
            self._state._commit(table, "ADDED", record)
            if hooks and hooks.after:
                hooks.after("ADDED", _fresh(prefix, record))
            return self._shown(rt, v, _fresh(prefix, record))

    def update(self, group: str, plural: str, obj: Obj, *, namespace: str | None = None,
               version: str | None = None, subresource: str | None = None,
               dry_run: bool = False, field_validation: str = "Ignore",
               warnings: list[str] | None = None) -> Obj:
        """Replace. 409 Conflict when obj's resourceVersion is set and stale; for a custom
        resource (main or status) a missing resourceVersion is 422 Invalid. On the main
        resource status is kept from storage; on `status` only status changes. generation
        bumps when spec changes. An update that changes nothing is a no-op (same rv, no event).
        Removing the last finalizer of an object being deleted removes it (DELETED event)."""
        own = _own(obj)
        with self._state._lock:
            table = self._state._table(group, plural)
            rt = table.rt
            v = version or rt.storage_version
            meta: Obj = own["metadata"] if isinstance(own.get("metadata"), dict) else {}
            name = meta.get("name")
            if not name:
                raise invalid(rt.kind, rt.group, "", [("metadata.name", "Required value")])
            ns = self._state._ns(rt, namespace or meta.get("namespace"))
            new = self._validated(rt, v, own, field_validation, warnings)
            return self._replace(table, v, name, ns, new, subresource, dry_run,
                                 meta.get("resourceVersion"), require_version=rt.is_custom)

    def patch(self, group: str, plural: str, name: str, patch: Any, patch_type: PatchType, *,
              namespace: str | None = None, version: str | None = None,
              subresource: str | None = None, dry_run: bool = False,
              field_validation: str = "Ignore", warnings: list[str] | None = None) -> Obj:
        """Apply a merge, JSON, strategic (built-in types only; 415 for custom resources) or
        apply patch (server-side apply approximated as a merge patch that creates the object
        when absent), then store the result as `update` would. A resourceVersion inside the
        patch is a precondition (409 Conflict when stale)."""
        with self._state._lock:
            table = self._state._table(group, plural)
            rt = table.rt
            v = version or rt.storage_version
            prefix = self._state._prefix(rt, v)
            ns = self._state._ns(rt, namespace)
            if patch_type == "strategic" and rt.is_custom:
                raise ApiError(415, "UnsupportedMediaType", "the body of the request was in an unknown "
                               "format - accepted media types include: application/json-patch+json, "
                               "application/merge-patch+json, application/apply-patch+yaml")
            record = table.records.get(object_key(name, ns))
            if record is None:
                if patch_type == "apply" and subresource is None:
                    body = merge_patch({}, patch)
                    body.setdefault("metadata", {})["name"] = name
                    return self.create(group, plural, body, namespace=ns, version=version,
                                       dry_run=dry_run, field_validation=field_validation,
                                       warnings=warnings)
                raise not_found(plural, group, name)
            current = _fresh(prefix, record)
            if patch_type == "json":
                patched = json_patch(current, patch)
            elif patch_type == "strategic":
                patched = strategic_merge_patch(current, patch)
            else:
                patched = merge_patch(current, patch)
            if not isinstance(patched, dict):
                raise ApiError(422, "Invalid", "the patched object is not a JSON object")
            patched = _own(patched)
            pmeta = patched.setdefault("metadata", {})
            precondition = pmeta.get("resourceVersion")
            new = self._validated(rt, v, patched, field_validation, warnings)
            return self._replace(table, v, name, ns, new, subresource, dry_run, precondition)

    def mutate(self, group: str, plural: str, name: str, fn: Callable[[Obj], None], *,
               namespace: str | None = None, subresource: str | None = None) -> Obj:
        """In-process read-modify-write under the store lock (for the simulated controllers):
        `fn` edits a private copy (at the storage version) in place; the result is stored as an
        update would be. `subresource="status"` keeps only status changes, None keeps all but
        status (for types with a status subresource), and "*" (in-process only) keeps both."""
        with self._state._lock:
            table = self._state._table(group, plural)
            rt = table.rt
            ns = self._state._ns(rt, namespace)
            record = table.records.get(object_key(name, ns))
            if record is None:
                raise not_found(plural, group, name)
            obj = _fresh(self._state._prefix(rt, None), record)
            fn(obj)
            new = self._validated(rt, rt.storage_version, _own(obj), "Ignore", None)
            return self._replace(table, rt.storage_version, name, ns, new, subresource, False, None)

    def delete(self, group: str, plural: str, name: str, *, namespace: str | None = None,
               version: str | None = None, dry_run: bool = False) -> Obj:
        """With finalizers: sets deletionTimestamp and returns the object (removal happens
        when the last finalizer is removed). Without: removes it, emits DELETED and returns the
        object as it was removed (with the deletion's resourceVersion). 404 when absent."""
        with self._state._lock:
            table = self._state._table(group, plural)
            rt = table.rt
            prefix = self._state._prefix(rt, version)
            ns = self._state._ns(rt, namespace)
            record = table.records.get(object_key(name, ns))
            if record is None:
                raise not_found(plural, group, name)
            obj = _fresh(prefix, record)
            meta = obj["metadata"]
            v = version or rt.storage_version
            if meta.get("finalizers"):
                if meta.get("deletionTimestamp") or dry_run:
                    return self._shown(rt, v, obj)
                # Kubernetes markAsDeleting: the first deletion bumps generation (when tracked)
                if int(meta.get("generation") or 0) > 0:
                    meta["generation"] = int(meta["generation"]) + 1
                meta["deletionTimestamp"] = self._timestamp()
                meta["deletionGracePeriodSeconds"] = 0
                return self._shown(rt, v, self._store(table, prefix, obj, "MODIFIED"))
            if dry_run:
                return self._shown(rt, v, obj)
            return self._shown(rt, v, self._store(table, prefix, obj, "DELETED"))

    def _replace(self, table: Table, version: str, name: str, ns: str | None, new: Obj,
                 subresource: str | None, dry_run: bool, precondition: Any, *,
                 require_version: bool = False) -> Obj:
        rt = table.rt
        if subresource not in (None, "status", "*") or (subresource == "status" and not rt.has_status):
            raise ApiError(404, "NotFound", f"the server could not find the requested resource "
                           f"({rt.plural}/{subresource})")
        prefix = self._state._prefix(rt, version)
        record = table.records.get(object_key(name, ns))
        if record is None:
            raise not_found(rt.plural, rt.group, name)
        if require_version and not precondition:
            # custom resources do not allow unconditional updates (the API server names the
            # resource, not the kind, in this message)
            raise invalid(rt.plural, rt.group, name, [
                ("metadata.resourceVersion", "Invalid value: 0x0: must be specified for an update")])
        if precondition and str(precondition) != str(record.rv):
            raise conflict(rt.plural, rt.group, name)
        old = _fresh(prefix, record)
        if subresource == "status":
            merged = dict(old)
            merged.pop("status", None)
            if new.get("status") is not None:
                merged["status"] = new["status"]
        else:
            merged = dict(new)
            meta = merged["metadata"] = dict(new.get("metadata") or {})
            for key in (*_IMMUTABLE, "resourceVersion"):
                meta.pop(key, None)
                if key in old["metadata"]:
                    meta[key] = old["metadata"][key]
            if old["metadata"].get("deletionTimestamp") and len(meta.get("finalizers") or []) > len(
                    old["metadata"].get("finalizers") or []):
                raise invalid(rt.kind, rt.group, name, [("metadata.finalizers", "Forbidden: no new "
                              "finalizers can be added if the object is being deleted")])
            if rt.has_status and subresource is None:
                merged.pop("status", None)
                if "status" in old:
                    merged["status"] = old["status"]
        merged["apiVersion"], merged["kind"] = old["apiVersion"], old["kind"]
        hooks = self._hooks.get((rt.group, rt.plural))
        if hooks and hooks.prepare:
            hooks.prepare(merged, old)
        if _spec_part(merged) != _spec_part(old):
            merged["metadata"]["generation"] = int(old["metadata"].get("generation") or 0) + 1
        if merged == old:
            return self._shown(rt, version, old)
        removing = bool(merged["metadata"].get("deletionTimestamp")) and not merged["metadata"].get(
            "finalizers")
        if dry_run:
            return self._shown(rt, version, merged)
        return self._shown(rt, version,
                           self._store(table, prefix, merged, "DELETED" if removing else "MODIFIED"))

    def _store(self, table: Table, prefix: bytes, obj: Obj, event: str) -> Obj:
        """Commit `obj` (lock held) under a new resourceVersion; DELETED removes it."""
        rv = self._state._next_rv()
        obj["metadata"]["resourceVersion"] = str(rv)
        record = encode(obj, rv)
        self._state._commit(table, event, record, removed=event == "DELETED")
        hooks = self._hooks.get((table.rt.group, table.rt.plural))
        if hooks and hooks.after:
            hooks.after(event, _fresh(prefix, record))
        return _fresh(prefix, record)


def _fresh(prefix: bytes, record: Record) -> Obj:
    result: Obj = orjson.loads(render(prefix, record))
    return result
