"""The three formats of a drift report by name, as bytes ready for a file, stdout or HTTP."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final, Literal

from reconciler.drift.render_html import render_report_html
from reconciler.drift.render_json import render_report_json
from reconciler.drift.render_markdown import render_report_markdown
from reconciler.drift.report import DriftReport

Format = Literal["markdown", "json", "html"]
FORMATS: Final[tuple[Format, ...]] = ("markdown", "json", "html")
#: The Content-Type of each format on the daemon's /reports endpoints.
MEDIA_TYPES: Final[dict[str, str]] = {
    "markdown": "text/markdown; charset=utf-8",
    "json": "application/json",
    "html": "text/html; charset=utf-8",
}


def render(report: DriftReport, fmt: str) -> bytes:
    """`report` in the format `fmt` (markdown, json or html), UTF-8. Raises ValueError."""
    if fmt == "json":
        return render_report_json(report)
    if fmt == "markdown":
        return render_report_markdown(report).encode()
    if fmt == "html":
        return render_report_html(report).encode()
    raise ValueError(f"unknown drift report format {fmt!r} (expected markdown, json or html)")


def render_all(report: DriftReport, formats: Iterable[str]) -> dict[str, bytes]:
    """Every format of `formats` rendered once (the input of delivery.write_report_files)."""
    return {fmt: render(report, fmt) for fmt in dict.fromkeys(formats)}
