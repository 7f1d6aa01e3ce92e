"""JSON Schema of `kind: DriftReport`, generated from the msgspec model.

`report_schema()` is pure; `python -m reconciler.drift.schema [DIR]` writes
DIR/drift-report.schema.json (default docs/schema), for maintainers after a model change.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Final

import msgspec

from reconciler.drift.report import DriftReport

SCHEMA_DIALECT: Final = "https://json-schema.org/draft/2020-12/schema"
FILE_NAME: Final = "drift-report.schema.json"


def report_schema() -> str:
    """The schema of a DriftReport JSON document, as indented JSON text with sorted keys."""
    schema = msgspec.json.schema(DriftReport)
    document = {
        "$schema": SCHEMA_DIALECT,
        "title": "edgefleet.io/v1alpha1 DriftReport",
        "description": "The drift of a fleet: `edgefleet drift --output json` (see docs/drift.md).",
        **schema,
    }
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def main(argv: list[str]) -> int:
    """Write the schema file into the directory argv[0] (default docs/schema)."""
    target = Path(argv[0]) if argv else Path("docs/schema")
    target.mkdir(parents=True, exist_ok=True)
    (target / FILE_NAME).write_text(report_schema(), encoding="utf-8")
    print(target / FILE_NAME)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
