"""JSON Schema of the fleet kinds, generated from the pydantic models, for editors and CI.

`schema_documents()` is pure and returns the file contents; `python -m
reconciler.manifests.schema [DIR]` writes them (default: docs/schema) and is the only I/O
here, for maintainers regenerating the committed files after a model change.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from pydantic.json_schema import models_json_schema

from reconciler.manifests.models import KINDS

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
COMBINED = "edgefleet.schema.json"


def _file_name(kind: str) -> str:
    return f"{kind.lower()}.schema.json"


def _dump(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def schema_documents() -> dict[str, str]:
    """File name -> JSON text: one schema per kind, plus a combined one for mixed files.

    The combined schema accepts any one of the kinds (chosen by `kind`), so a single
    `# yaml-language-server: $schema=...` line works for every document of a fleet file.
    """
    documents: dict[str, str] = {}
    for kind, model in KINDS.items():
        schema = model.model_json_schema(by_alias=True)
        documents[_file_name(kind)] = _dump({"$schema": SCHEMA_DIALECT, **schema})
    keyed, defs = models_json_schema(
        [(model, "validation") for model in KINDS.values()], by_alias=True, title="edgefleet.io/v1alpha1"
    )
    combined = {
        "$schema": SCHEMA_DIALECT,
        "title": "edgefleet.io/v1alpha1 fleet document",
        "description": "A FleetConfig, ImageSet or NodeGroupImages document (see docs/manifests.md).",
        "oneOf": [keyed[(model, "validation")] for model in KINDS.values()],
        "$defs": defs.get("$defs", {}),
    }
    documents[COMBINED] = _dump(combined)
    return documents


def main(argv: list[str]) -> int:
    """Write every schema file into the directory argv[0] (default docs/schema)."""
    target = Path(argv[0]) if argv else Path("docs/schema")
    target.mkdir(parents=True, exist_ok=True)
    for name, text in schema_documents().items():
        (target / name).write_text(text, encoding="utf-8")
        print(target / name)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
