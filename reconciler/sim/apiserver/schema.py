"""Structural schema handling for custom resources, as the API server does for a CRD's
`openAPIV3Schema`: unknown fields are pruned (Ignore/Warn) or rejected (Strict), and values are
checked against `type`, `enum` and `required`.

"Unknown" is judged by walking `properties` (not by `additionalProperties: false`, which
structural CRDs do not use): a key is known when its object schema lists it in `properties`,
or the schema has `additionalProperties` (a map), or `x-kubernetes-preserve-unknown-fields`.
At the root, `apiVersion`, `kind` and `metadata` are always known; `metadata` is checked against
the ObjectMeta field set.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from reconciler.sim.apiserver.errors import Obj

OBJECT_META_FIELDS = frozenset({
    "name", "generateName", "namespace", "selfLink", "uid", "resourceVersion", "generation",
    "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "labels",
    "annotations", "ownerReferences", "finalizers", "managedFields",
})

_PY_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "object": (dict,),
    "array": (list,),
}

_JSON_NAMES: dict[type, str] = {str: "string", int: "integer", float: "number", bool: "boolean",
                                dict: "object", list: "array"}


@dataclass
class SchemaReport:
    """What walking an object found: unknown field paths and invalid values (path, message)."""

    unknown: list[str] = field(default_factory=list)
    invalid: list[tuple[str, str]] = field(default_factory=list)


def _type_ok(value: Any, typ: str) -> bool:
    if typ not in _PY_TYPES:
        return True
    if isinstance(value, bool) and typ in ("integer", "number"):
        return False
    if typ == "integer" and isinstance(value, float):
        return value.is_integer()
    return isinstance(value, _PY_TYPES[typ])


def _walk(value: Any, schema: Obj, path: str, prune: bool, report: SchemaReport) -> Any:
    """Check `value` against `schema`; returns the value with unknown fields removed when
    `prune` (the input is not modified)."""
    if value is None:
        if not schema.get("nullable") and "type" in schema:
            report.invalid.append((path, f'Invalid value: "null": {path} in body must be of '
                                         f'type {schema["type"]}: "null"'))
        return None
    typ = schema.get("type")
    if typ and not _type_ok(value, typ):
        shown = _JSON_NAMES.get(type(value), type(value).__name__)
        report.invalid.append((path, f'Invalid value: "{shown}": {path} in body must be of '
                                     f'type {typ}: "{shown}"'))
        return value
    if "enum" in schema and value not in schema["enum"]:
        allowed = ", ".join(f'"{v}"' for v in schema["enum"])
        report.invalid.append((path, f'Unsupported value: "{value}": supported values: {allowed}'))
    if isinstance(value, dict):
        return _walk_object(value, schema, path, prune, report)
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        items = schema["items"]
        return [_walk(v, items, f"{path}[{i}]", prune, report) for i, v in enumerate(value)]
    return value


def _walk_object(value: Obj, schema: Obj, path: str, prune: bool, report: SchemaReport) -> Obj:
    props: Obj = schema.get("properties") or {}
    additional = schema.get("additionalProperties")
    preserve = bool(schema.get("x-kubernetes-preserve-unknown-fields"))
    out: Obj = {}
    for key, sub in value.items():
        sub_path = f"{path}.{key}" if path else key
        if key in props:
            if sub is None and not props[key].get("nullable"):
                continue  # the API server drops nulls of non-nullable fields before validation
            out[key] = _walk(sub, props[key], sub_path, prune, report)
        elif isinstance(additional, dict):
            out[key] = _walk(sub, additional, sub_path, prune, report)
        elif preserve or additional is True:
            out[key] = sub
        else:
            report.unknown.append(sub_path)
            if not prune:
                out[key] = sub
    for key in schema.get("required") or []:
        if key not in value:
            sub_path = f"{path}.{key}" if path else key
            report.invalid.append((sub_path, "Required value"))
    return out


def check_object(obj: Obj, schema: Obj | None, *, prune: bool) -> tuple[Obj, SchemaReport]:
    """Walk a whole custom object against its version's `openAPIV3Schema`.

    Returns (the object, pruned of unknown fields when `prune`, and the report). A None schema
    accepts everything. The input is never modified."""
    report = SchemaReport()
    if not schema:
        return obj, report
    out: Obj = {}
    props: Obj = schema.get("properties") or {}
    for key, value in obj.items():
        if key in ("apiVersion", "kind"):
            out[key] = value
        elif key == "metadata":
            out[key] = _walk_metadata(value, prune, report)
        elif key in props:
            out[key] = _walk(value, props[key], key, prune, report)
        elif schema.get("x-kubernetes-preserve-unknown-fields"):
            out[key] = value
        else:
            report.unknown.append(key)
            if not prune:
                out[key] = value
    for key in schema.get("required") or []:
        if key not in obj:
            report.invalid.append((key, "Required value"))
    return out, report


def _walk_metadata(meta: Any, prune: bool, report: SchemaReport) -> Any:
    if not isinstance(meta, dict):
        report.invalid.append(("metadata", "Invalid value: metadata must be an object"))
        return meta
    out: Obj = {}
    for key, value in meta.items():
        if key in OBJECT_META_FIELDS:
            out[key] = value
        else:
            report.unknown.append(f"metadata.{key}")
            if not prune:
                out[key] = value
    return out


def known_paths(schema: Obj, prefix: str = "") -> set[str]:
    """Every field path a schema accepts by name (`spec.a.b`, arrays as `x[]`, maps as `x{}`);
    used to compare two schemas' property trees."""
    paths: set[str] = set()
    for key, sub in (schema.get("properties") or {}).items():
        path = f"{prefix}.{key}" if prefix else key
        paths.add(path)
        paths |= _known_below(sub, path)
    return paths


def _known_below(schema: Obj, path: str) -> set[str]:
    paths = known_paths(schema, path)
    if isinstance(schema.get("items"), dict):
        paths.add(f"{path}[]")
        paths |= _known_below(schema["items"], f"{path}[]")
    if isinstance(schema.get("additionalProperties"), dict):
        paths.add(f"{path}{{}}")
        paths |= _known_below(schema["additionalProperties"], f"{path}{{}}")
    if schema.get("x-kubernetes-preserve-unknown-fields"):
        paths.add(f"{path}.*")
    return paths
