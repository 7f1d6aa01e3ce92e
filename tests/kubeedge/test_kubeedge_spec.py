"""Jobs edgefleet builds, checked against the upstream KubeEdge CRDs (the oracle)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema
import pytest

from reconciler.kubeedge import V1ALPHA1, V1ALPHA2, JobSpecError, build_job_manifest
from reconciler.manifests.fleet import JobPolicy
from reconciler.planner import PlannerSettings, plan
from tests.fleet_builders import (
    BELONGING,
    NOW,
    UPSTREAM_CRDS,
    fleet,
    group,
    load_yaml,
    node_object,
    nodes_facts,
)


def crd_schema(path: Path, version: str) -> dict[str, Any]:
    docs = load_yaml(path)
    for served in docs["spec"]["versions"]:
        if served["name"] == version:
            schema: dict[str, Any] = served["schema"]["openAPIV3Schema"]
            return schema
    raise AssertionError(f"{path.name} does not serve {version}")


def unknown_fields(obj: Any, schema: dict[str, Any], at: str = "") -> list[str]:
    """Paths of fields the structural schema does not declare (the API server would prune them)."""
    if schema.get("x-kubernetes-preserve-unknown-fields"):
        return []
    if isinstance(obj, dict):
        props = schema.get("properties")
        if props is None:
            return []  # e.g. metadata: {type: object}: validated by the API server itself
        found = []
        for key, value in obj.items():
            if key not in props:
                found.append(f"{at}.{key}")
            else:
                found.extend(unknown_fields(value, props[key], f"{at}.{key}"))
        return found
    if isinstance(obj, list) and "items" in schema:
        return [p for i, v in enumerate(obj) for p in unknown_fields(v, schema["items"], f"{at}[{i}]")]
    return []


CRDS = [
    pytest.param("operations_v1alpha2_imageprepulljob.yaml", V1ALPHA2, id="1.21+-v1alpha2"),
    pytest.param("operations_v1alpha2_imageprepulljob.yaml", V1ALPHA1, id="1.21+-v1alpha1"),
    pytest.param("operations_v1alpha1_imageprepulljob.v1.20.0.yaml", V1ALPHA1, id="1.20-v1alpha1"),
    pytest.param("operations_v1alpha1_imageprepulljob.v1.16.1.yaml", V1ALPHA1, id="1.16-v1alpha1"),
]


@pytest.mark.parametrize(("crd", "api_version"), CRDS)
def test_planned_jobs_validate_against_upstream_crd(crd: str, api_version: str) -> None:
    policy = JobPolicy(concurrency=3, failure_tolerate="0.1", check_items=("disk", "mem"))
    the_fleet = fleet(group("line", ["nginx:1.25", ("reg.example.com:5000/a/b", "ns/pull")],
                            node_group="line", policy=policy))
    nodes = nodes_facts(*(node_object(f"edge-{i}", labels={BELONGING: "line"}) for i in range(3)))
    result = plan(the_fleet, nodes, [], [], now=NOW, revision="abc123", job_api_version=api_version,
                  settings=PlannerSettings())
    assert len(result.create) == 2  # one per secret
    schema = crd_schema(UPSTREAM_CRDS / crd, api_version.rsplit("/", 1)[1])
    for job in result.create:
        manifest = job.manifest()
        assert manifest["apiVersion"] == api_version
        assert unknown_fields(manifest, schema) == []
        jsonschema.validate(manifest, schema)
        template = manifest["spec"]["imagePrePullTemplate"]
        assert isinstance(template["failureTolerate"], str)
        assert template["timeoutSeconds"] > 0 and template["concurrency"] >= 1
        assert "labelSelector" not in template and template["nodeNames"]


def test_secret_is_emitted_only_when_set() -> None:
    common: dict[str, Any] = {"name": "ef-x-1", "api_version": V1ALPHA2, "images": ["a"],
                              "node_names": ["n"], "policy": JobPolicy(), "labels": {},
                              "annotations": {}}
    assert "imageSecrets" not in build_job_manifest(secret=None, **common)["spec"]["imagePrePullTemplate"]
    with_secret = build_job_manifest(secret="kubeedge/cred", **common)
    assert with_secret["spec"]["imagePrePullTemplate"]["imageSecrets"] == "kubeedge/cred"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        pytest.param({"api_version": "operations.kubeedge.io/v1beta1"}, "apiVersion", id="api-version"),
        pytest.param({"images": []}, "at least one image", id="no-images"),
        pytest.param({"policy": JobPolicy(concurrency=0)}, "concurrency", id="concurrency-0"),
        pytest.param({"policy": JobPolicy(timeout_seconds=0)}, "timeoutSeconds", id="timeout-0"),
        pytest.param({"policy": JobPolicy(retry_times=-1)}, "retryTimes", id="retry-negative"),
        pytest.param({"policy": JobPolicy(failure_tolerate="1.5")}, "failureTolerate", id="tolerate"),
        pytest.param({"secret": "just-a-name"}, "namespace/name", id="secret-form"),
    ],
)
def test_unsafe_values_are_refused(change: dict[str, Any], message: str) -> None:
    args: dict[str, Any] = {"name": "ef-x-1", "api_version": V1ALPHA2, "images": ["a"],
                            "node_names": ["n"], "policy": JobPolicy(), "secret": None,
                            "labels": {}, "annotations": {}}
    args.update(change)
    with pytest.raises(JobSpecError, match=message):
        build_job_manifest(**args)
