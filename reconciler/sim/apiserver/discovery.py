"""Legacy (non-aggregated) API discovery documents: /version, /api, /api/v1, /apis and
/apis/<group>/<version>. Aggregated discovery is not offered: a client asking for it gets the
legacy format with `Content-Type: application/json`, which kubectl and client-go accept."""

from __future__ import annotations

import hashlib
import re

from reconciler.sim.apiserver.errors import ApiError, Obj
from reconciler.sim.apiserver.resource_types import ResourceType
from reconciler.sim.apiserver.store import Store

SERVER_VERSION: Obj = {
    "major": "1", "minor": "30", "gitVersion": "v1.30.0-edgefleet-sim", "gitCommit": "0" * 40,
    "gitTreeState": "clean", "buildDate": "2024-04-17T00:00:00Z", "goVersion": "go1.22.2",
    "compiler": "gc", "platform": "linux/amd64",
}
_VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]
_VERSION_RE = re.compile(r"^v(\d+)(?:(alpha|beta)(\d+))?$")


def version_priority(version: str) -> tuple[int, int, int, str]:
    """Sort key giving Kubernetes' version order, highest priority first when sorted:
    GA before beta before alpha, higher numbers first, unrecognised names last."""
    m = _VERSION_RE.match(version)
    if not m:
        return (3, 0, 0, version)
    stage = {None: 0, "beta": 1, "alpha": 2}[m.group(2)]
    return (stage, -int(m.group(1)), -int(m.group(3) or 0), version)


def served_groups(store: Store) -> dict[str, list[str]]:
    """{group: served versions in priority order} for the named groups (not core)."""
    groups: dict[str, set[str]] = {}
    for rt in store.resources():
        if rt.group:
            groups.setdefault(rt.group, set()).update(rt.versions)
    return {g: sorted(vs, key=version_priority) for g, vs in groups.items()}


def api_versions(host: str) -> Obj:
    """The /api document."""
    return {"kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": host}]}


def _group_entry(group: str, versions: list[str]) -> Obj:
    listed = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
    return {"name": group, "versions": listed, "preferredVersion": listed[0]}


def api_group_list(store: Store) -> Obj:
    """The /apis document."""
    groups = served_groups(store)
    return {"kind": "APIGroupList", "apiVersion": "v1",
            "groups": [_group_entry(g, vs) for g, vs in groups.items()]}


def api_group(store: Store, group: str) -> Obj:
    """The /apis/<group> document, or ApiError 404."""
    versions = served_groups(store).get(group)
    if not versions:
        raise ApiError(404, "NotFound", "the server could not find the requested resource")
    return {"kind": "APIGroup", "apiVersion": "v1", **_group_entry(group, versions)}


def _storage_hash(rt: ResourceType) -> str:
    digest = hashlib.sha256(f"{rt.group}/{rt.storage_version}/{rt.kind}".encode()).digest()
    return digest[:8].hex()


def resource_list(store: Store, group: str, version: str) -> Obj:
    """The /api/v1 or /apis/<group>/<version> APIResourceList, or ApiError 404."""
    types = [rt for rt in store.resources() if rt.group == group and version in rt.versions]
    if not types:
        raise ApiError(404, "NotFound", "the server could not find the requested resource")
    resources: list[Obj] = []
    for rt in types:
        entry: Obj = {"name": rt.plural, "singularName": rt.singular, "namespaced": rt.namespaced,
                      "kind": rt.kind, "verbs": _VERBS, "storageVersionHash": _storage_hash(rt)}
        if rt.short_names:
            entry["shortNames"] = list(rt.short_names)
        if rt.categories:
            entry["categories"] = list(rt.categories)
        resources.append(entry)
        if rt.has_status:
            resources.append({"name": f"{rt.plural}/status", "singularName": "",
                              "namespaced": rt.namespaced, "kind": rt.kind,
                              "verbs": ["get", "patch", "update"]})
    group_version = f"{group}/{version}" if group else version
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version,
            "resources": resources}
