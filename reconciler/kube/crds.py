"""Install edgefleet's own CustomResourceDefinitions (deploy/crds/) into a cluster.

Used by `edgefleet sync --install-crds` and by the embedded cluster. Creating is idempotent:
an existing CRD is replaced by ours (so an upgrade brings the new schema), and the call
returns once discovery serves every installed group/version.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import orjson
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from reconciler.kube.discovery import served_versions
from reconciler.kube.errors import ApiRejected, KubeError
from reconciler.kube.session import Session

CRD_GROUP = "apiextensions.k8s.io"
CRD_VERSION = "v1"
CRD_PLURAL = "customresourcedefinitions"
#: deploy/crds/ beside the package in a source checkout (the repository layout).
DEFAULT_CRD_DIR = Path(__file__).resolve().parents[2] / "deploy" / "crds"
#: How many discovery checks (one per second of `sleep`) to wait for a new CRD to be served.
ESTABLISH_CHECKS = 30


def read_crds(directory: Path = DEFAULT_CRD_DIR) -> list[dict[str, Any]]:
    """Every CustomResourceDefinition document in `directory/*.yaml`, sorted by file name.

    Raises KubeError when the directory holds none or a file is not valid YAML.
    """
    crds: list[dict[str, Any]] = []
    files = sorted(directory.glob("*.yaml")) if directory.is_dir() else []
    for file in files:
        try:
            documents = list(YAML(typ="safe").load_all(io.BytesIO(file.read_bytes())))
        except (OSError, YAMLError) as error:
            raise KubeError(f"{file}: cannot read CRD: {error}") from None
        crds.extend(d for d in documents
                    if isinstance(d, dict) and d.get("kind") == "CustomResourceDefinition")
    if not crds:
        raise KubeError(f"no CustomResourceDefinition found in {directory}")
    return crds


def install_crds(session: Session, crds: list[dict[str, Any]]) -> list[str]:
    """Create or replace each CRD, then wait until discovery serves it; returns their names.

    Raises KubeError (see Session.call), or when a CRD is still not served after the wait.
    """
    names: list[str] = []
    for crd in crds:
        name = str(crd["metadata"]["name"])
        try:
            session.call(f"create customresourcedefinitions/{name}",
                         session.custom.create_cluster_custom_object, group=CRD_GROUP,
                         version=CRD_VERSION, plural=CRD_PLURAL, body=crd)
        except ApiRejected as error:
            if error.code != 409:
                raise
            _replace(session, name, crd)
        names.append(name)
    _wait_until_served(session, crds)
    return names


def _replace(session: Session, name: str, crd: dict[str, Any]) -> None:
    current = orjson.loads(session.call(
        f"get customresourcedefinitions/{name}", session.custom.get_cluster_custom_object,
        group=CRD_GROUP, version=CRD_VERSION, plural=CRD_PLURAL, name=name))
    body = dict(crd, metadata=dict(crd["metadata"],
                                   resourceVersion=current["metadata"]["resourceVersion"]))
    session.call(f"replace customresourcedefinitions/{name}",
                 session.custom.replace_cluster_custom_object, group=CRD_GROUP,
                 version=CRD_VERSION, plural=CRD_PLURAL, name=name, body=body)


def _wait_until_served(session: Session, crds: list[dict[str, Any]]) -> None:
    wanted = {(str(c["spec"]["group"]), str(v["name"]))
              for c in crds for v in c["spec"]["versions"] if v.get("served", True)}
    for _ in range(ESTABLISH_CHECKS):
        served = served_versions(session)
        if all(version in served.get(group, ()) for group, version in wanted):
            return
        session.pause(1.0)
    missing = ", ".join(sorted(f"{g}/{v}" for g, v in wanted))
    raise KubeError(f"installed CRDs are still not served after {ESTABLISH_CHECKS} checks: {missing}")
