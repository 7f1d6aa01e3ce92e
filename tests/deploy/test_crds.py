"""One source of truth for edgefleet's CRDs: deploy/crds/*.yaml is what `--install-crds` installs
and what the embedded cluster serves; the kustomize install renders exactly those objects, and
kubectl's apply of the install leaves the cluster holding them unchanged. Each schema is
structural (the API server refuses a CRD whose schema is not)."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from reconciler.kube.crds import DEFAULT_CRD_DIR, read_crds
from reconciler.sim.apiserver.server import ApiServer
from reconciler.sim.clock import ManualClock
from reconciler.sim.cluster import EmbeddedCluster
from reconciler.sim.install_kinds import serve_install_kinds
from reconciler.sim.served import CRD_GROUP, new_store
from tests.deploy.rendered import KUBECTL, KUSTOMIZE, OVERLAYS, render

CRD = "CustomResourceDefinition"


def by_name(crds: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {c["metadata"]["name"]: c for c in crds}


def test_the_crd_kustomization_lists_every_crd_file() -> None:
    listed = YAML(typ="safe").load((DEFAULT_CRD_DIR / "kustomization.yaml").read_text())["resources"]
    files = sorted(p.name for p in DEFAULT_CRD_DIR.glob("*.yaml") if p.name != "kustomization.yaml")
    assert sorted(listed) == files


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_overlay_renders_the_crds_exactly_as_the_code_reads_them(overlay: str) -> None:
    rendered = by_name([o for o in render(overlay) if o["kind"] == CRD])
    assert rendered == by_name(read_crds())


def test_the_embedded_cluster_serves_the_same_crds() -> None:
    cluster = EmbeddedCluster(nodes=1, clock=ManualClock(), serve=False)
    for name, crd in by_name(read_crds()).items():
        held = cluster.store.get(CRD_GROUP, "customresourcedefinitions", name)
        assert held["spec"] == crd["spec"]
        assert held["metadata"]["labels"] == crd["metadata"]["labels"]


def test_kubectl_apply_of_the_install_stores_the_crds_unchanged(tmp_path: Path) -> None:
    store = new_store("1.21")
    serve_install_kinds(store)
    with ApiServer(store) as server:
        kubeconfig = server.write_kubeconfig(tmp_path / "kubeconfig")
        result = subprocess.run([str(KUBECTL), "--kubeconfig", str(kubeconfig), "apply", "--server-side",
                                 "-k", str(KUSTOMIZE / "overlays" / "kubeedge-1.21")],
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
    for name, crd in by_name(read_crds()).items():
        assert store.get(CRD_GROUP, "customresourcedefinitions", name)["spec"] == crd["spec"]


def structural_problems(schema: dict[str, Any], path: str) -> list[str]:
    """Where `schema` breaks the structural-schema rules the API server enforces: a type on every
    node (unless int-or-string or preserve-unknown-fields), `properties` only on objects,
    `items` on arrays, never both `properties` and `additionalProperties`."""
    problems = []
    if "type" not in schema and not (schema.get("x-kubernetes-int-or-string")
                                     or schema.get("x-kubernetes-preserve-unknown-fields")):
        problems.append(f"{path}: no type")
    if "properties" in schema and schema.get("type") != "object":
        problems.append(f"{path}: properties on a {schema.get('type')}")
    if "properties" in schema and "additionalProperties" in schema:
        problems.append(f"{path}: both properties and additionalProperties")
    if schema.get("type") == "array" and "items" not in schema:
        problems.append(f"{path}: an array without items")
    for key, sub in (schema.get("properties") or {}).items():
        problems += structural_problems(sub, f"{path}.{key}")
    if isinstance(schema.get("items"), dict):
        problems += structural_problems(schema["items"], f"{path}[]")
    if isinstance(schema.get("additionalProperties"), dict):
        problems += structural_problems(schema["additionalProperties"], f"{path}{{}}")
    return problems


@pytest.mark.parametrize("name", sorted(by_name(read_crds())))
def test_every_crd_schema_is_structural(name: str) -> None:
    crd = by_name(read_crds())[name]
    problems = []
    for version in crd["spec"]["versions"]:
        schema = version["schema"]["openAPIV3Schema"]
        problems += structural_problems(schema, f"{version['name']}")
        metadata = schema["properties"].get("metadata", {})
        assert set(metadata.get("properties") or {}) <= {"name", "generateName"}
    assert problems == []
    assert [v["name"] for v in crd["spec"]["versions"] if v["storage"]] != []


def test_the_structural_check_finds_what_the_api_server_refuses() -> None:
    bad = {"type": "object", "properties": {"a": {"properties": {}}, "b": {"type": "array"}}}
    assert structural_problems(bad, "s") == ["s.a: no type", "s.a: properties on a None",
                                             "s.b: an array without items"]
