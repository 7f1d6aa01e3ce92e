"""Kubeconfig files pointing kubectl and the Python client at the embedded API server."""

from __future__ import annotations

from pathlib import Path

from ruamel.yaml import YAML

from reconciler.sim.apiserver.errors import Obj

DUMMY_TOKEN = "edgefleet-sim-token"  # the embedded server does no authentication


def kubeconfig_document(url: str, *, context: str = "edgefleet-sim") -> Obj:
    """A kubeconfig with one cluster, one user (a dummy token) and one current context."""
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": context, "cluster": {"server": url}}],
        "users": [{"name": context, "user": {"token": DUMMY_TOKEN}}],
        "contexts": [{"name": context, "context": {"cluster": context, "user": context}}],
        "current-context": context,
        "preferences": {},
    }


def write_kubeconfig(path: Path, url: str, *, context: str = "edgefleet-sim") -> Path:
    """Write `kubeconfig_document(url)` as YAML to `path` (parents created); returns `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    yaml = YAML(typ="safe")
    yaml.default_flow_style = False
    with path.open("w", encoding="utf-8") as handle:
        yaml.dump(kubeconfig_document(url, context=context), handle)
    return path
