"""How the store holds one object version: immutable serialized bytes plus the few fields that
listing and watching filter on, so reads never deep-copy and never re-serialize.

The stored body is the object's JSON *without* `apiVersion` and `kind`; those are prepended per
requested version on read (`render`), which is how a multi-version CRD with conversion strategy
None is served from one stored copy.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from reconciler.sim.apiserver.errors import ApiError, Obj

_NAME_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_TYPE_KEYS = ("apiVersion", "kind")


@dataclass(frozen=True, slots=True)
class Record:
    """One stored version of one object. Never mutated; replaced on every write."""

    key: str  # "namespace/name" or "name": the sort key for listing and paging
    name: str
    namespace: str | None
    labels: Mapping[str, str]
    rv: int
    body: bytes  # orjson of the object minus apiVersion/kind; starts with b"{"


def object_key(name: str, namespace: str | None) -> str:
    """The store key of an object."""
    return f"{namespace}/{name}" if namespace is not None else name


def encode(obj: Obj, rv: int) -> Record:
    """Freeze a complete object (metadata already stamped) into a Record."""
    meta = obj["metadata"]
    body_obj = {k: v for k, v in obj.items() if k not in _TYPE_KEYS}
    try:
        body = orjson.dumps(body_obj)
    except TypeError as exc:
        raise ApiError(400, "BadRequest", f"object is not valid JSON: {exc}") from None
    name = meta["name"]
    namespace = meta.get("namespace")
    labels = meta.get("labels") or {}
    return Record(object_key(name, namespace), name, namespace, labels, rv, body)


def decode(record: Record) -> Obj:
    """A fresh, private dict of the stored body (no apiVersion/kind)."""
    result: Obj = orjson.loads(record.body)
    return result


def type_prefix(api_version: str, kind: str) -> bytes:
    """The bytes `render` puts in front of a body for one served version."""
    return b'{"apiVersion":' + orjson.dumps(api_version) + b',"kind":' + orjson.dumps(kind) + b","


def render(prefix: bytes, record: Record) -> bytes:
    """The object's JSON at the version `prefix` names."""
    return prefix + record.body[1:]


def validate_name(name: Any, kind: str) -> list[tuple[str, str]]:
    """Causes (field, message) for an invalid metadata.name (a DNS-1123 subdomain)."""
    if not isinstance(name, str) or not name:
        return [("metadata.name", "Required value: name or generateName is required")]
    if len(name) > 253 or not _NAME_RE.match(name):
        return [("metadata.name", f'Invalid value: "{name}": a lowercase RFC 1123 subdomain must '
                 "consist of lower case alphanumeric characters, '-' or '.', and must start and "
                 "end with an alphanumeric character")]
    return []


def encode_continue(list_rv: int, last_key: str) -> str:
    """An opaque continue token: the list's resourceVersion and the last key returned."""
    raw = orjson.dumps({"rv": list_rv, "start": last_key})
    return base64.urlsafe_b64encode(raw).decode("ascii")


def decode_continue(token: str) -> tuple[int, str]:
    """(list resourceVersion, last key) from a token; ApiError 400 when it is malformed."""
    try:
        data = orjson.loads(base64.urlsafe_b64decode(token.encode("ascii")))
        return int(data["rv"]), str(data["start"])
    except (ValueError, KeyError, TypeError, orjson.JSONDecodeError):
        raise ApiError(400, "BadRequest", "continue key is not valid: malformed token") from None
