"""Our KubeEdge CRD manifests against the upstream copies (../shared/kubeedge-crds/), which are
the oracle: same identity, versions and property trees, and the same documents accepted."""

from __future__ import annotations

import copy
import random
from typing import Any

import jsonschema
import pytest
from ruamel.yaml import YAML

from reconciler.sim.apiserver.store import ApiError
from reconciler.sim.served import load_crd, new_store
from tests.sim.apiserver.builders import IPPJ, UPSTREAM_CRDS

PAIRS = [
    pytest.param("imageprepulljobs-v1alpha2.yaml", "operations_v1alpha2_imageprepulljob.yaml",
                 id="ippj-1.21"),
    pytest.param("imageprepulljobs-v1alpha1.yaml", "operations_v1alpha1_imageprepulljob.v1.20.0.yaml",
                 id="ippj-1.20"),
    pytest.param("imageprepulljobs-v1alpha1.yaml", "operations_v1alpha1_imageprepulljob.v1.16.1.yaml",
                 id="ippj-1.16"),
    pytest.param("nodegroups.yaml", "apps_v1alpha1_nodegroup.yaml", id="nodegroup"),
]


def _upstream(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = YAML(typ="safe").load((UPSTREAM_CRDS / name).read_text())
    return loaded


def _shape(schema: dict[str, Any], path: str = "") -> dict[str, tuple[Any, ...]]:
    """Every field path a structural schema names, with its type, required keys and map-ness,
    walked as the API server prunes: properties, array items, additionalProperties."""
    shape = {path: (schema.get("type"), tuple(sorted(schema.get("required") or [])),
                    "additionalProperties" in schema,
                    bool(schema.get("x-kubernetes-preserve-unknown-fields")))}
    for key, sub in (schema.get("properties") or {}).items():
        shape |= _shape(sub, f"{path}.{key}")
    if isinstance(schema.get("items"), dict):
        shape |= _shape(schema["items"], f"{path}[]")
    if isinstance(schema.get("additionalProperties"), dict):
        shape |= _shape(schema["additionalProperties"], f"{path}{{}}")
    return shape


def _versions(crd: dict[str, Any]) -> dict[str, tuple[Any, ...]]:
    return {v["name"]: (v["served"], v["storage"], v.get("subresources"),
                        _shape(v["schema"]["openAPIV3Schema"]))
            for v in crd["spec"]["versions"]}


@pytest.mark.parametrize(("ours", "theirs"), PAIRS)
def test_identity_versions_and_property_trees_match_upstream(ours: str, theirs: str) -> None:
    mine, upstream = load_crd(ours), _upstream(theirs)
    assert mine["metadata"]["name"] == upstream["metadata"]["name"]
    for key in ("group", "scope", "names"):
        assert mine["spec"][key] == upstream["spec"][key], key
    assert _versions(mine) == _versions(upstream)


@pytest.mark.parametrize(("release", "upstream_file"), [
    pytest.param("1.21", "operations_v1alpha2_imageprepulljob.yaml", id="1.21"),
    pytest.param("1.16", "operations_v1alpha1_imageprepulljob.v1.16.1.yaml", id="1.16"),
])
def test_store_serves_the_upstream_versions(release: str, upstream_file: str) -> None:
    rt = new_store(release).resource(*IPPJ)
    versions = _upstream(upstream_file)["spec"]["versions"]
    assert set(rt.versions) == {v["name"] for v in versions if v["served"]}
    assert rt.storage_version == next(v["name"] for v in versions if v["storage"])
    assert (rt.namespaced, rt.short_names, rt.has_status) == (False, (), True)


def _value(schema: dict[str, Any], rng: random.Random, depth: int = 0) -> Any:
    """A random value the schema accepts, exercising optional fields at random."""
    typ = schema.get("type")
    if typ == "object":
        if isinstance(schema.get("additionalProperties"), dict):
            return {f"k{rng.randrange(9)}.example.io/x": _value(schema["additionalProperties"], rng)
                    for _ in range(rng.randrange(3))}
        props = schema.get("properties") or {}
        required = set(schema.get("required") or [])
        return {k: _value(sub, rng, depth + 1) for k, sub in props.items()
                if k in required or rng.random() < 0.6}
    if typ == "array":
        return [_value(schema["items"], rng, depth + 1) for _ in range(rng.randrange(3))]
    if typ == "integer":
        return rng.randrange(-(2**31), 2**31)
    if typ == "boolean":
        return rng.random() < 0.5
    return rng.choice(["", "0.1", "Completed", "edge-1", "registry.example.com/app:1.0"])


def _document(schema: dict[str, Any], rng: random.Random, name: str) -> dict[str, Any]:
    doc = {k: _value(schema["properties"][k], rng) for k in ("spec", "status")}
    doc["status"]["phase"] = "Completed"
    return {"apiVersion": "operations.kubeedge.io/v1alpha2", "kind": "ImagePrePullJob",
            "metadata": {"name": name}, **doc}


def _object_paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Paths of every dict inside a document."""
    found: list[tuple[Any, ...]] = []
    if isinstance(value, dict):
        found.append(path)
        for k, v in value.items():
            found += _object_paths(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found += _object_paths(v, (*path, i))
    return found


def _schema_at(schema: dict[str, Any], path: tuple[Any, ...]) -> dict[str, Any]:
    for part in path:
        schema = schema["items"] if isinstance(part, int) else (
            (schema.get("properties") or {}).get(part) or schema["additionalProperties"])
    return schema


@pytest.fixture(scope="module")
def upstream_v1alpha2() -> dict[str, Any]:
    crd = _upstream("operations_v1alpha2_imageprepulljob.yaml")
    schema: dict[str, Any] = next(v for v in crd["spec"]["versions"]
                                  if v["name"] == "v1alpha2")["schema"]["openAPIV3Schema"]
    return schema


def test_documents_upstream_accepts_are_accepted_unchanged(upstream_v1alpha2: dict[str, Any]) -> None:
    store, rng = new_store("1.21"), random.Random(11)
    for i in range(60):
        doc = _document(upstream_v1alpha2, rng, f"job-{i}")
        jsonschema.validate(doc, upstream_v1alpha2)  # the oracle accepts it
        created = store.create(*IPPJ, doc, field_validation="Strict")
        assert created["spec"] == doc["spec"]
        stored = store.update(*IPPJ, {**created, "status": doc["status"]}, subresource="status",
                              field_validation="Strict")
        assert stored["status"] == doc["status"]


def test_unknown_fields_are_rejected_under_strict_and_pruned_otherwise(
        upstream_v1alpha2: dict[str, Any]) -> None:
    store, rng = new_store("1.21"), random.Random(12)
    checked = 0
    for i in range(60):
        doc = {k: v for k, v in _document(upstream_v1alpha2, rng, f"job-{i}").items() if k != "status"}
        spots = [p for p in _object_paths(doc)
                 if p[:1] == ("spec",) and "properties" in _schema_at(upstream_v1alpha2, p)]
        spot = rng.choice(spots)
        bad = copy.deepcopy(doc)
        target = bad
        for part in spot:
            target = target[part]
        target["surplusField"] = "x"
        jsonschema.validate(bad, upstream_v1alpha2)  # upstream has no additionalProperties: false
        dotted = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in spot)[1:]
        with pytest.raises(ApiError) as rejected:
            store.create(*IPPJ, bad, field_validation="Strict")
        assert rejected.value.code == 400
        assert f'strict decoding error: unknown field "{dotted}.surplusField"' in rejected.value.message
        assert store.create(*IPPJ, bad)["spec"] == doc["spec"]
        checked += 1
    assert checked == 60


@pytest.mark.parametrize(("path", "value"), [
    pytest.param(("imagePrePullTemplate", "failureTolerate"), 0.1, id="tolerance-must-be-a-string"),
    pytest.param(("imagePrePullTemplate", "concurrency"), "2", id="concurrency-must-be-an-integer"),
    pytest.param(("imagePrePullTemplate", "images"), "nginx", id="images-must-be-a-list"),
    pytest.param(("imagePrePullTemplate", "labelSelector", "matchExpressions"), [{"key": "a"}],
                 id="expression-needs-an-operator"),
])
def test_documents_upstream_rejects_are_invalid(upstream_v1alpha2: dict[str, Any],
                                                path: tuple[str, ...], value: Any) -> None:
    doc = {"apiVersion": "operations.kubeedge.io/v1alpha2", "kind": "ImagePrePullJob",
           "metadata": {"name": "bad"}, "spec": {"imagePrePullTemplate": {"labelSelector": {}}}}
    target = doc["spec"]
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, upstream_v1alpha2)
    with pytest.raises(ApiError) as rejected:
        new_store("1.21").create(*IPPJ, doc)
    assert (rejected.value.code, rejected.value.reason) == (422, "Invalid")
