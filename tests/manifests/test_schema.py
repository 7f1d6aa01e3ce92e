"""The committed JSON Schemas are the generated ones, and they agree with the loader."""

from __future__ import annotations

import json

import jsonschema
import pytest
from ruamel.yaml import YAML

from reconciler.manifests import load_fleet
from reconciler.manifests.schema import COMBINED, schema_documents

from .conftest import EXAMPLES, REPO_ROOT

SCHEMA_DIR = REPO_ROOT / "docs" / "schema"


@pytest.mark.parametrize("name", sorted(schema_documents()))
def test_committed_schema_is_current(name: str) -> None:
    committed = (SCHEMA_DIR / name).read_text(encoding="utf-8")
    assert committed == schema_documents()[name], "regenerate: python -m reconciler.manifests.schema"


def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(json.loads(schema_documents()[COMBINED]))


def test_schema_accepts_every_example_document() -> None:
    validator = _validator()
    checked = 0
    for path in sorted(EXAMPLES.rglob("*.yaml")):
        for doc in YAML(typ="safe").load_all(path.read_text(encoding="utf-8")):
            if doc.get("apiVersion") == "edgefleet.io/v1alpha1":
                assert list(validator.iter_errors(doc)) == [], path
                checked += 1
    assert checked == 8


@pytest.mark.parametrize(
    "doc",
    [
        pytest.param(
            {"kind": "ImageSet", "metadata": {"name": "a"}, "spec": {"images": ["x"], "imageSet": []}},
            id="unknown-key",
        ),
        pytest.param(
            {
                "kind": "NodeGroupImages",
                "metadata": {"name": "a"},
                "spec": {"nodes": {"nodeGroup": "a", "names": ["b"]}},
            },
            id="two-selections",
        ),
        pytest.param({"kind": "FleetConfig", "spec": {"defaults": {"maxNodesPerJob": 101}}}, id="range"),
        pytest.param({"kind": "FleetConfig", "spec": {"defaults": {"failureTolerate": 2}}}, id="tolerate"),
    ],
)
def test_schema_rejects_what_the_loader_rejects(doc: dict[str, object]) -> None:
    doc = {"apiVersion": "edgefleet.io/v1alpha1", **doc}
    assert list(_validator().iter_errors(doc)) != []
    text = json.dumps(doc).encode()  # JSON is YAML
    assert load_fleet({"d.yaml": text}).errors != ()
