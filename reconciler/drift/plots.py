"""The HTML report's plots, drawn by matplotlib and written as inline SVG text.

Imported only when an HTML report is rendered (matplotlib takes a while to import). The Agg
backend draws without a display; text stays text in the SVG (`svg.fonttype: none`), so no
font is embedded and none is fetched; a fixed hash salt and no date keep the output stable.
"""

from __future__ import annotations

import io
import re
from typing import Any, Final

import matplotlib

matplotlib.use("Agg")

import matplotlib.dates as mdates
from matplotlib.figure import Figure

from reconciler.drift.report import DriftReport

#: One colour per plot (the Chromium test finds each plot by its colour).
CONVERGENCE_COLOUR: Final = "#2563eb"
AGE_COLOUR: Final = "#d97706"
SITE_COLOUR: Final = "#059669"
MAX_SITES: Final = 20
_METADATA: Final = re.compile(r"<metadata>.*?</metadata>\s*", re.DOTALL)

# Any: matplotlib types rc keys as one Literal of every name.
_STYLE: Final[Any] = {
    "svg.fonttype": "none",
    "svg.hashsalt": "edgefleet-drift",
    "font.family": ["DejaVu Sans"],
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.axisbelow": True,
}


def _svg(figure: Figure) -> str:
    buffer = io.StringIO()
    with matplotlib.rc_context(_STYLE):
        figure.savefig(buffer, format="svg", metadata={"Date": None}, bbox_inches="tight")
    text = buffer.getvalue()
    # Inline SVG in HTML needs neither the XML declaration nor the DOCTYPE (which names a DTD
    # URL), nor the RDF metadata block (namespace and creator URLs a reader could mistake for links).
    text = text[text.index("<svg"):]
    return _METADATA.sub("", text, count=1)


def _figure(width: float, height: float) -> Figure:
    with matplotlib.rc_context(_STYLE):
        return Figure(figsize=(width, height), layout="constrained")


def convergence_plot(report: DriftReport) -> str:
    """Convergence % over the reports of the trend (the current one included), as SVG."""
    with matplotlib.rc_context(_STYLE):
        figure = _figure(7.0, 2.8)
        axes = figure.add_subplot()
        points = report.trend.points
        times = [p.at for p in points] or [report.generated_at]
        values = [p.convergence_percent for p in points] or [report.summary.convergence_percent]
        x = mdates.date2num(times)  # type: ignore[no-untyped-call]
        axes.plot(x, values, color=CONVERGENCE_COLOUR, linewidth=2.5, marker="o", markersize=6)
        axes.set_ylabel("pairs present (%)")
        axes.set_ylim(min(min(values) - 2, 90.0), 100.5)
        axes.axhline(95, color="#9ca3af", linewidth=0.8, linestyle="--")
        locator = mdates.AutoDateLocator()  # type: ignore[no-untyped-call]
        axes.xaxis.set_major_locator(locator)
        axes.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]
        axes.grid(axis="y", color="#e5e7eb", linewidth=0.6)
        return _svg(figure)


def age_histogram_plot(report: DriftReport) -> str:
    """Drifting pairs per age bucket, youngest first, as SVG."""
    with matplotlib.rc_context(_STYLE):
        figure = _figure(7.0, 2.8)
        axes = figure.add_subplot()
        labels = [b.label for b in report.age_histogram]
        axes.bar(labels, [b.pairs for b in report.age_histogram], color=AGE_COLOUR)
        axes.set_xlabel("missing for")
        axes.set_ylabel("drifting pairs")
        axes.grid(axis="y", color="#e5e7eb", linewidth=0.6)
        return _svg(figure)


def site_plot(report: DriftReport) -> str:
    """Drifting pairs of the MAX_SITES sites with the most, as horizontal bars in SVG."""
    sites = sorted((a for a in report.aggregates.sites if a.pairs),
                   key=lambda a: (-a.pairs, a.key))[:MAX_SITES]
    with matplotlib.rc_context(_STYLE):
        figure = _figure(7.0, max(1.6, 0.28 * len(sites) + 0.9))
        axes = figure.add_subplot()
        names = [a.key for a in reversed(sites)]
        axes.barh(names, [a.pairs for a in reversed(sites)], color=SITE_COLOUR)
        axes.set_xlabel("drifting pairs")
        axes.grid(axis="x", color="#e5e7eb", linewidth=0.6)
        return _svg(figure)
