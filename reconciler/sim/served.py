"""The resource types the embedded cluster serves, and `new_store`, which builds a Store with
the core types, CustomResourceDefinitions that register types at run time, the pre-created
namespaces and the pre-installed KubeEdge CRDs (reconciler/sim/kubeedge/crds/)."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from datetime import datetime
from importlib import resources as package_files

from ruamel.yaml import YAML

from reconciler.sim.apiserver.errors import ApiError, Obj, invalid
from reconciler.sim.apiserver.resource_types import ResourceType
from reconciler.sim.apiserver.store import Store

CRD_GROUP = "apiextensions.k8s.io"
PRECREATED_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease", "kubeedge")

CORE_TYPES: tuple[ResourceType, ...] = (
    ResourceType("", ("v1",), "v1", "namespaces", "namespace", "Namespace", False,
                 short_names=("ns",), has_status=True, keep_status_on_create=True),
    ResourceType("", ("v1",), "v1", "nodes", "node", "Node", False, short_names=("no",),
                 has_status=True, keep_status_on_create=True),
    # no pod is ever created; served so that `kubectl describe node` can list a node's pods
    ResourceType("", ("v1",), "v1", "pods", "pod", "Pod", True, short_names=("po",),
                 categories=("all",), has_status=True, keep_status_on_create=True),
    ResourceType("", ("v1",), "v1", "secrets", "secret", "Secret", True),
    ResourceType("", ("v1",), "v1", "configmaps", "configmap", "ConfigMap", True,
                 short_names=("cm",)),
    ResourceType("", ("v1",), "v1", "events", "event", "Event", True, short_names=("ev",)),
    ResourceType("coordination.k8s.io", ("v1",), "v1", "leases", "lease", "Lease", True),
    ResourceType(CRD_GROUP, ("v1",), "v1", "customresourcedefinitions",
                 "customresourcedefinition", "CustomResourceDefinition", False,
                 short_names=("crd", "crds"), categories=("api-extensions",), has_status=True),
)


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", version)[:2])


def kubeedge_crd_files(kubeedge: str) -> list[str]:
    """The CRD manifests (file names under reconciler/sim/kubeedge/crds/) a KubeEdge release installs.
    ApiError-free: raises ValueError for a release outside 1.16+."""
    key = _version_key(kubeedge)
    if len(key) < 2 or key < (1, 16):
        raise ValueError(f"unsupported KubeEdge release {kubeedge!r}: expected 1.16 or newer")
    prepull = "imageprepulljobs-v1alpha2.yaml" if key >= (1, 21) else "imageprepulljobs-v1alpha1.yaml"
    return [prepull, "nodegroups.yaml"]


def load_crd(file_name: str) -> Obj:
    """Parse one of the project's CRD manifests (reconciler/sim/kubeedge/crds/<file_name>)."""
    text = package_files.files("reconciler.sim.kubeedge").joinpath("crds", file_name).read_text("utf-8")
    loaded: Obj = YAML(typ="safe").load(text)
    return loaded


def resource_type_from_crd(crd: Obj) -> ResourceType:
    """The ResourceType a CustomResourceDefinition (apiextensions.k8s.io/v1) defines.
    Raises ApiError 422 Invalid when the definition is incomplete or inconsistent."""
    name = str((crd.get("metadata") or {}).get("name") or "")
    causes: list[tuple[str, str]] = []
    spec = crd.get("spec") or {}
    names = spec.get("names") or {}
    group = spec.get("group") or ""
    plural = names.get("plural") or ""
    if not group or not plural or not names.get("kind"):
        causes.append(("spec", "Required value: group, names.plural and names.kind are required"))
    elif name != f"{plural}.{group}":
        causes.append(("metadata.name", f'Invalid value: "{name}": must be spec.names.plural+"."+spec.group'))
    versions = spec.get("versions") or []
    storage = [v.get("name") for v in versions if v.get("storage")]
    if len(storage) != 1:
        causes.append(("spec.versions",
                       "Invalid value: must have exactly one version marked as storage version"))
    scope = spec.get("scope")
    if scope not in ("Cluster", "Namespaced"):
        causes.append(("spec.scope",
                       f'Unsupported value: "{scope}": supported values: "Cluster", "Namespaced"'))
    if causes:
        raise invalid("CustomResourceDefinition", CRD_GROUP, name, causes)
    served = [v for v in versions if v.get("served")]
    schemas = {
        v["name"]: (v.get("schema") or {}).get("openAPIV3Schema")
        or {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
        for v in versions
    }
    return ResourceType(
        group=group,
        versions=tuple(v["name"] for v in served),
        storage_version=str(storage[0]),
        plural=plural,
        singular=names.get("singular") or plural,
        kind=names["kind"],
        namespaced=scope == "Namespaced",
        short_names=tuple(names.get("shortNames") or ()),
        categories=tuple(names.get("categories") or ()),
        has_status=any("status" in (v.get("subresources") or {}) for v in served),
        schemas=schemas,
        printer_columns={v["name"]: tuple(v.get("additionalPrinterColumns") or ()) for v in versions},
    )


def _crd_status(crd: Obj, rt: ResourceType, now: str) -> Obj:
    conditions = [
        {"type": kind, "status": "True", "reason": reason, "message": message,
         "lastTransitionTime": now}
        for kind, reason, message in (
            ("NamesAccepted", "NoConflicts", "no conflicts found"),
            ("Established", "InitialNamesAccepted", "the initial names have been accepted"),
        )
    ]
    names = dict((crd.get("spec") or {}).get("names") or {})
    names.setdefault("singular", rt.singular)
    names.setdefault("listKind", rt.list_kind)
    return {"conditions": conditions, "acceptedNames": names, "storedVersions": [rt.storage_version]}


def install_crd_support(store: Store, now: Callable[[], datetime]) -> None:
    """Make CustomResourceDefinition objects register (and on deletion unregister) their
    resource type, with an Established status as the API server reports it."""

    def prepare(new: Obj, old: Obj | None) -> None:
        rt = resource_type_from_crd(new)
        if old is not None and (old["spec"].get("group"), (old["spec"].get("names") or {}).get(
                "plural")) != (rt.group, rt.plural):
            raise ApiError(422, "Invalid", "spec.group and spec.names.plural are immutable")
        status = _crd_status(new, rt, now().strftime("%Y-%m-%dT%H:%M:%SZ"))
        # a condition that did not change keeps its lastTransitionTime, so that re-applying an
        # unchanged CRD (`kubectl apply` of an install, again) writes nothing
        before = {c.get("type"): c for c in ((old or {}).get("status") or {}).get("conditions") or ()}
        for condition in status["conditions"]:
            previous = before.get(condition["type"])
            if previous is not None and previous.get("status") == condition["status"]:
                condition["lastTransitionTime"] = previous.get("lastTransitionTime")
        new["status"] = status

    def after(event: str, crd: Obj) -> None:
        rt = resource_type_from_crd(crd)
        if event == "DELETED":
            store.unregister(rt.group, rt.plural)
        else:
            store.register(rt)

    store.add_hooks(CRD_GROUP, "customresourcedefinitions", prepare=prepare, after=after)


def install_secret_support(store: Store) -> None:
    """Fold a Secret's write-only `stringData` into base64 `data`, as the API server does."""

    def prepare(new: Obj, old: Obj | None) -> None:
        string_data = new.pop("stringData", None) or {}
        if string_data:
            data = dict(new.get("data") or {})
            for key, value in string_data.items():
                data[key] = base64.b64encode(str(value).encode()).decode()
            new["data"] = data

    store.add_hooks("", "secrets", prepare=prepare)


def new_store(kubeedge: str = "1.21", *, now: Callable[[], datetime] | None = None,
              history: int = 10_000, seed: int | None = None,
              bookmark_interval: float = 5.0) -> Store:
    """A Store serving the core types and CRDs, with namespaces default, kube-system,
    kube-public, kube-node-lease and kubeedge, and the KubeEdge CRDs of release `kubeedge`
    ("1.21"+: ImagePrePullJob v1alpha1+v1alpha2 stored as v1alpha2; "1.16".."1.20": v1alpha1
    only; NodeGroup in both). Raises ValueError for an unsupported release."""
    files = kubeedge_crd_files(kubeedge)
    kwargs = {"now": now} if now is not None else {}
    store = Store(history=history, seed=seed, bookmark_interval=bookmark_interval, **kwargs)
    for rt in CORE_TYPES:
        store.register(rt)
    install_crd_support(store, store.now)
    install_secret_support(store)
    for ns in PRECREATED_NAMESPACES:
        store.create("", "namespaces", {"metadata": {"name": ns}, "status": {"phase": "Active"}})
    for file_name in files:
        store.create(CRD_GROUP, "customresourcedefinitions", load_crd(file_name))
    return store
