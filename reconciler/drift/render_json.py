"""`drift --output json`: the DriftReport as JSON (docs/schema/drift-report.schema.json)."""

from __future__ import annotations

import msgspec
import orjson

from reconciler.drift.report import DriftReport

# Sorted keys and a fixed indent: the same report always prints the same bytes.
_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2


def report_dict(report: DriftReport) -> dict[str, object]:
    """The report as JSON-ready builtins (times as RFC 3339 strings, reasons as their words)."""
    result: dict[str, object] = msgspec.to_builtins(report)
    return result


def render_report_json(report: DriftReport) -> bytes:
    """The report as indented JSON with sorted keys, UTF-8, ending in a newline."""
    return orjson.dumps(report_dict(report), option=_OPTIONS) + b"\n"


def decode_report(data: bytes) -> DriftReport:
    """A report read back from its JSON (validated against the model).

    Raises msgspec.ValidationError (a ValueError) for a document that is not a DriftReport.
    """
    return msgspec.json.decode(data, type=DriftReport)
