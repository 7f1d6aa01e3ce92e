"""OpenAPI v3 documents, enough for kubectl: `/openapi/v3` lists one document per group
version, and each document has the REST paths with operations carrying
`x-kubernetes-group-version-kind` and the `dryRun`/`fieldManager`/`fieldValidation` query
parameters (kubectl checks these before it sends server-side field validation), plus a schema
per kind: the CRD's openAPIV3Schema for custom resources, a permissive object for built-ins.
/openapi/v2 is not served (404)."""

from __future__ import annotations

import hashlib

import orjson

from reconciler.sim.apiserver.errors import ApiError, Obj
from reconciler.sim.apiserver.resource_types import ResourceType
from reconciler.sim.apiserver.store import Store

_OBJECT_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
_LIST_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta"
_STRING_MAP: Obj = {"type": "object", "additionalProperties": {"type": "string", "default": ""}}
OBJECT_META_SCHEMA: Obj = {
    "type": "object",
    "properties": {
        **{k: {"type": "string"} for k in ("name", "generateName", "namespace", "uid",
                                           "resourceVersion", "creationTimestamp",
                                           "deletionTimestamp", "selfLink")},
        "generation": {"type": "integer", "format": "int64"},
        "deletionGracePeriodSeconds": {"type": "integer", "format": "int64"},
        "labels": _STRING_MAP,
        "annotations": _STRING_MAP,
        "finalizers": {"type": "array", "items": {"type": "string", "default": ""},
                       "x-kubernetes-list-type": "set", "x-kubernetes-patch-strategy": "merge"},
        "ownerReferences": {"type": "array", "items": {"type": "object",
                                                       "x-kubernetes-preserve-unknown-fields": True},
                            "x-kubernetes-patch-merge-key": "uid",
                            "x-kubernetes-patch-strategy": "merge"},
        "managedFields": {"type": "array", "items": {"type": "object",
                                                     "x-kubernetes-preserve-unknown-fields": True}},
    },
}
_PARAMS = ("dryRun", "fieldManager", "fieldValidation", "pretty")


def _gv_path(group: str, version: str) -> str:
    return f"apis/{group}/{version}" if group else f"api/{version}"


def _def_name(rt: ResourceType, version: str) -> str:
    if not rt.group:
        return f"io.k8s.api.core.{version}.{rt.kind}"
    reversed_group = ".".join(reversed(rt.group.split(".")))
    return f"{reversed_group}.{version}.{rt.kind}"


def _document_types(store: Store, group: str, version: str) -> list[ResourceType]:
    return [rt for rt in store.resources() if rt.group == group and version in rt.versions]


def root_document(store: Store) -> Obj:
    """The /openapi/v3 index: {"paths": {"apis/<g>/<v>": {"serverRelativeURL": ...}}}."""
    paths: dict[str, Obj] = {}
    for rt in store.resources():
        for version in rt.versions:
            path = _gv_path(rt.group, version)
            if path not in paths:
                digest = hashlib.sha256(orjson.dumps(group_version_document(store, rt.group, version),
                                                     option=orjson.OPT_SORT_KEYS)).hexdigest()
                paths[path] = {"serverRelativeURL": f"/openapi/v3/{path}?hash={digest[:32].upper()}"}
    return {"paths": paths}


def _operation(rt: ResourceType, version: str, action: str, ref: str) -> Obj:
    gvk = {"group": rt.group, "version": version, "kind": rt.kind}
    params = [{"name": p, "in": "query", "schema": {"type": "string", "uniqueItems": True}}
              for p in _PARAMS]
    schema_ref = {"$ref": f"#/components/schemas/{ref}"}
    op: Obj = {
        "operationId": f"{action}{rt.kind}",
        "parameters": params,
        "responses": {"200": {"description": "OK",
                              "content": {"application/json": {"schema": schema_ref}}}},
        "x-kubernetes-action": action,
        "x-kubernetes-group-version-kind": gvk,
    }
    if action in ("post", "put", "patch"):
        content_types = ["application/json", "application/yaml"]
        if action == "patch":
            # as the API server does: strategic merge patch only for built-in kinds, which
            # makes kubectl's client-side apply send a JSON merge patch for custom resources
            content_types = ["application/json-patch+json", "application/merge-patch+json",
                             "application/apply-patch+yaml"]
            if not rt.is_custom:
                content_types.insert(2, "application/strategic-merge-patch+json")
        op["requestBody"] = {"content": {ct: {"schema": schema_ref} for ct in content_types},
                             "required": True}
    return op


def _kind_schema(rt: ResourceType, version: str) -> Obj:
    schema: Obj = dict(rt.schemas.get(version) or {
        "type": "object", "x-kubernetes-preserve-unknown-fields": True,
        "properties": {"apiVersion": {"type": "string"}, "kind": {"type": "string"}}})
    props = dict(schema.get("properties") or {})
    props["metadata"] = {"allOf": [{"$ref": f"#/components/schemas/{_OBJECT_META}"}],
                         "default": {}}
    schema["properties"] = props
    schema["x-kubernetes-group-version-kind"] = [{"group": rt.group, "version": version,
                                                  "kind": rt.kind}]
    return schema


def group_version_document(store: Store, group: str, version: str) -> Obj:
    """The OpenAPI v3 document of one group version, or ApiError 404."""
    types = _document_types(store, group, version)
    if not types:
        raise ApiError(404, "NotFound", "the server could not find the requested resource")
    paths: dict[str, Obj] = {}
    schemas: dict[str, Obj] = {
        _OBJECT_META: OBJECT_META_SCHEMA,
        _LIST_META: {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
    }
    base = "/" + _gv_path(group, version)
    for rt in types:
        name = _def_name(rt, version)
        list_name = name + "List"
        schemas[name] = _kind_schema(rt, version)
        schemas[list_name] = {
            "type": "object",
            "properties": {"apiVersion": {"type": "string"}, "kind": {"type": "string"},
                           "metadata": {"$ref": f"#/components/schemas/{_LIST_META}"},
                           "items": {"type": "array",
                                     "items": {"$ref": f"#/components/schemas/{name}"}}},
            "x-kubernetes-group-version-kind": [{"group": rt.group, "version": version,
                                                 "kind": rt.list_kind}],
        }
        scope = f"{base}/namespaces/{{namespace}}" if rt.namespaced else base
        collection = f"{scope}/{rt.plural}"
        paths[collection] = {"get": _operation(rt, version, "list", list_name),
                             "post": _operation(rt, version, "post", name),
                             "delete": _operation(rt, version, "deletecollection", name)}
        item = {m: _operation(rt, version, a, name)
                for m, a in (("get", "get"), ("put", "put"), ("patch", "patch"), ("delete", "delete"))}
        paths[f"{collection}/{{name}}"] = item
        if rt.has_status:
            paths[f"{collection}/{{name}}/status"] = {
                m: _operation(rt, version, a, name)
                for m, a in (("get", "get"), ("put", "put"), ("patch", "patch"))}
    return {"openapi": "3.0.0", "info": {"title": "Kubernetes", "version": "v1.30.0"},
            "paths": paths, "components": {"schemas": schemas}}
