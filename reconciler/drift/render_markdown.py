"""`drift --output markdown`: the report for an issue or a chat, at most 60,000 characters.

Layout: a header line, the headline sentence, then tables: reasons, groups, sites, images (each
worst first), the age of drift, the trend (time to converge per revision, recent convergence)
and the oldest drifting pairs. The whole rendering is tried first, then ever shorter tables;
the rows left out are summarised ("… and 1,234 more groups: 5,678 pairs"). Totals count all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from reconciler.drift.reasons import REASON_TEXT, Reason
from reconciler.drift.report import Aggregate, DriftReport
from reconciler.drift.wording import age, detail_text, duration, headline, moment, top_reasons
from reconciler.report.markdown_text import code, count, more, table, text
from reconciler.report.plan_registry import transfer_text

#: Upper bound of the Markdown report (below GitHub's 65,536-character comments and issues).
MAX_MARKDOWN_CHARS: Final = 60_000


@dataclass(frozen=True, slots=True)
class Detail:
    """Rows shown per table; None: all of them."""

    aggregates: int | None
    pairs: int | None
    trend: int


DETAIL_LEVELS: Final = (
    Detail(aggregates=None, pairs=100, trend=10),
    Detail(aggregates=100, pairs=50, trend=10),
    Detail(aggregates=30, pairs=20, trend=5),
    Detail(aggregates=10, pairs=10, trend=3),
    Detail(aggregates=3, pairs=3, trend=1),
)


def render_report_markdown(report: DriftReport, *, limit: int = MAX_MARKDOWN_CHARS) -> str:
    """The report as Markdown of at most `limit` characters (no trailing newline)."""
    for detail in DETAIL_LEVELS:
        rendered = _render(report, detail)
        if len(rendered) <= limit:
            return rendered
    note = "\n\n_(report cut to fit; use `--output json` for all of it)_"
    return rendered[: max(0, limit - len(note))] + note


def _render(report: DriftReport, detail: Detail) -> str:
    aggregates = report.aggregates
    sections = [
        _header(report),
        _totals(report),
        _reasons(report),
        _aggregate_section(report, "Groups", "Group", aggregates.groups, detail.aggregates, groups=True),
        _aggregate_section(report, f"Sites (label {code(report.site_label)})", "Site",
                           aggregates.sites, detail.aggregates),
        _aggregate_section(report, "Images", "Image", aggregates.images, detail.aggregates),
        transfer_section(report),
        _ages(report),
        _trend(report, detail.trend),
        _pairs(report, detail.pairs),
    ]
    return "\n\n".join(s for s in sections if s)


def _header(report: DriftReport) -> str:
    shown = code(report.revision[:12]) if report.revision else "no revision"
    return f"### edgefleet drift · revision {shown} · {moment(report.generated_at)}"


def _totals(report: DriftReport) -> str:
    s = report.summary
    line = f"**{headline(report)}**"
    if s.pairs_settling:
        line += (f" {count(s.pairs_settling)} more pairs are settling "
                 f"(missing for less than {duration(report.min_age_seconds)}).")
    return line


def _reasons(report: DriftReport) -> str:
    rows = [[code(a.key), count(a.pairs), count(a.nodes), age(report.generated_at, a.oldest_since),
             text(REASON_TEXT.get(Reason(a.key), ""))] for a in report.aggregates.reasons]
    if not rows:
        return ""
    return "\n".join(["#### Why", *table(["Reason", "Pairs", "Nodes", "Oldest", "Meaning"], rows,
                                          numeric={1, 2})])


def _aggregate_section(report: DriftReport, title: str, noun: str, items: Sequence[Aggregate],
                       limit: int | None, *, groups: bool = False) -> str:
    shown_items = [a for a in items if a.pairs or groups]
    if not shown_items:
        return ""
    shown = shown_items if limit is None else shown_items[:limit]
    now = report.generated_at
    header = [noun, "Drifting pairs", "Nodes", "Failed nodes", "Oldest", "Reasons"]
    if groups:
        header.insert(1, "Present")
    rows = []
    for a in shown:
        row = [code(a.key) + (" (suspended)" if a.suspended else ""), count(a.pairs), count(a.nodes),
               count(a.failed_nodes), age(now, a.oldest_since), text(top_reasons(a.reasons))]
        if groups:
            row.insert(1, f"{a.convergence_percent:.2f} %" if a.convergence_percent is not None else "–")
        rows.append(row)
    numeric = {1, 2, 3, 4} if groups else {1, 2, 3}
    lines = [f"#### {title}", *table(header, rows, numeric=numeric)]
    left = shown_items[len(shown):]
    if left:
        lines.append("")
        lines.append(f"{more(len(left), noun.lower() + 's')}: {sum(a.pairs for a in left):,} drifting pairs")
    return "\n".join(lines)


def _ages(report: DriftReport) -> str:
    if not report.drifting:
        return ""
    rows = [[b.label, count(b.pairs)] for b in report.age_histogram]
    return "\n".join(["#### Age of drift", *table(["Missing for", "Pairs"], rows, numeric={1})])


def _trend(report: DriftReport, limit: int) -> str:
    trend = report.trend
    lines: list[str] = []
    if trend.revisions:
        rows = [[code(r.revision[:12]), moment(r.first_report_at), duration(r.seconds_to95),
                 duration(r.seconds_to100)] for r in trend.revisions[:limit]]
        lines += ["#### Time to converge", *table(["Revision", "First report", "To 95 %", "To 100 %"], rows)]
    points = trend.points[-limit:]
    if len(points) > 1:
        path = " → ".join(f"{p.convergence_percent:.2f} %" for p in points)
        lines += ["", f"Convergence over the last {len(points)} reports: {path}"]
    return "\n".join(lines).strip()


def _pairs(report: DriftReport, limit: int | None) -> str:
    listed = report.pairs if limit is None else report.pairs[:limit]
    if not listed:
        return ""
    now = report.generated_at
    rows = [[code(p.node), code(p.group), code(p.site), code(p.image), code(p.reason), age(now, p.since),
             text(detail_text(p.detail))] for p in listed]
    lines = ["#### Oldest drifting pairs",
             *table(["Node", "Group", "Site", "Image", "Reason", "Missing for", "Detail"], rows)]
    left = report.summary.pairs_drifting - len(listed)
    if left > 0:
        lines += ["", f"{more(left, 'drifting pairs')} (counted in the tables above)"]
    return "\n".join(lines)


def transfer_section(report: DriftReport) -> str:
    """Bytes the next jobs move per group and per site (with registry facts only)."""
    moved = report.transfer
    if moved is None:
        return ""
    groups = ", ".join(f"{code(b.key)} {transfer_text(b.bytes)}" for b in moved.groups) or "none"
    sites = ", ".join(f"{code(b.key)} {transfer_text(b.bytes)}" for b in moved.sites) or "none"
    unsized = f" ({count(moved.unsized_pairs)} pairs of unknown size)" if moved.unsized_pairs else ""
    return "\n".join(["#### Bytes to transfer (registry sizes)", "", f"- Per group: {groups}{unsized}.",
                      f"- Per site (label {code(report.site_label)}): {sites}."])
