"""`drift --output html`: one self-contained HTML file with plots and the report's tables.

Nothing in the page is fetched: styles are inline, plots are inline SVG (reconciler.drift.plots,
imported only here and only when called), there are no scripts and the favicon is a data URL.
Every text from the cluster or the repository is HTML-escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Final

from reconciler.drift.reasons import REASON_TEXT, Reason
from reconciler.drift.report import Aggregate, DriftReport
from reconciler.drift.wording import age, detail_text, duration, headline, moment, top_reasons
from reconciler.report.plan_registry import transfer_text

#: Rows per table in the page (the JSON report and the aggregates count everything).
MAX_HTML_ROWS: Final = 500

_CSS: Final = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;max-width:72rem;
color:#111827;padding:0 1rem}
h1{font-size:1.4rem;margin:0}h2{font-size:1.1rem;margin-top:2rem}
.meta{color:#6b7280}.headline{font-weight:600}
.cards{display:flex;gap:1rem;flex-wrap:wrap}.card{border:1px solid #e5e7eb;border-radius:6px;
padding:.6rem 1rem;min-width:9rem}.card b{display:block;font-size:1.3rem}
figure{margin:1rem 0}figure svg{max-width:100%;height:auto}figcaption{color:#6b7280;font-size:.9rem}
table{border-collapse:collapse;font-size:.9rem;margin:.5rem 0}
th,td{border-bottom:1px solid #e5e7eb;padding:.25rem .6rem;text-align:left;vertical-align:top}
td.n{text-align:right;font-variant-numeric:tabular-nums}code{font-size:.85rem}
"""


def render_report_html(report: DriftReport) -> str:
    """The report as one HTML document (UTF-8 text, no external resources)."""
    from reconciler.drift import plots  # matplotlib: only when a page is drawn

    title = f"edgefleet drift · {moment(report.generated_at)}"
    revision = escape(report.revision[:12]) if report.revision else "no revision"
    s = report.summary
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title>",
        '<link rel="icon" href="data:,">',
        f"<style>{_CSS}</style></head><body>",
        "<header><h1>edgefleet drift report</h1>",
        f'<p class="meta">revision <code>{revision}</code> · generated {escape(moment(report.generated_at))}'
        f" · drift counts pairs missing for at least {escape(duration(report.min_age_seconds))}</p>",
        f'<p class="headline">{escape(headline(report))}</p></header>',
        '<section class="cards">',
        _card("nodes", f"{s.nodes:,}"), _card("nodes drifting", f"{s.nodes_drifting:,}"),
        _card("pairs drifting", f"{s.pairs_drifting:,}"),
        _card("pairs present", f"{s.convergence_percent:.2f} %"),
        _card("oldest drift", age(report.generated_at, s.oldest_since)),
        "</section>",
        "<h2>Plots</h2>",
        _figure("plot-convergence", plots.convergence_plot(report),
                "Desired pairs present over the reports of the history (dashed: 95 %)."),
        _figure("plot-age", plots.age_histogram_plot(report),
                "Drifting pairs by how long they have been missing."),
        _figure("plot-sites", plots.site_plot(report),
                f"Drifting pairs per site (label {report.site_label}), the {plots.MAX_SITES} with most."),
        _reasons(report),
        _aggregates(report, "Groups", report.aggregates.groups, groups=True),
        _aggregates(report, "Sites", report.aggregates.sites),
        _aggregates(report, "Images", report.aggregates.images),
        _transfer(report),  # with registry facts only (docs/registry.md)
        _time_to_converge(report),
        _pairs(report),
        "</body></html>",
    ]
    return "\n".join(p for p in parts if p) + "\n"


def _card(label: str, value: str) -> str:
    return f'<div class="card"><b>{escape(value)}</b>{escape(label)}</div>'


def _figure(ident: str, svg: str, caption: str) -> str:
    return f'<figure id="{ident}">{svg}<figcaption>{escape(caption)}</figcaption></figure>'


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], numeric: set[int]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f'<td class="n">{escape(c)}</td>' if i in numeric else f"<td>{escape(c)}</td>"
                         for i, c in enumerate(row)) + "</tr>"
        for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _left_out(total: int, shown: int, noun: str) -> str:
    return f"<p>… and {total - shown:,} more {escape(noun)}</p>" if total > shown else ""


def _reasons(report: DriftReport) -> str:
    rows = [[a.key, f"{a.pairs:,}", f"{a.nodes:,}", age(report.generated_at, a.oldest_since),
             REASON_TEXT.get(Reason(a.key), "")] for a in report.aggregates.reasons]
    if not rows:
        return ""
    return "<h2>Why</h2>" + _table(["Reason", "Pairs", "Nodes", "Oldest", "Meaning"], rows, {1, 2})


def _aggregates(report: DriftReport, title: str, items: Sequence[Aggregate], *, groups: bool = False) -> str:
    listed = [a for a in items if a.pairs or groups]
    if not listed:
        return ""
    shown = listed[:MAX_HTML_ROWS]
    header = [title[:-1], "Drifting pairs", "Nodes", "Failed nodes", "Oldest", "Reasons"]
    rows = []
    for a in shown:
        row = [a.key + (" (suspended)" if a.suspended else ""), f"{a.pairs:,}", f"{a.nodes:,}",
               f"{a.failed_nodes:,}", age(report.generated_at, a.oldest_since), top_reasons(a.reasons)]
        if groups:
            row.insert(1, f"{a.convergence_percent:.2f} %" if a.convergence_percent is not None else "–")
        rows.append(row)
    if groups:
        header.insert(1, "Present")
    numeric = {1, 2, 3, 4} if groups else {1, 2, 3}
    return (f"<h2>{escape(title)}</h2>" + _table(header, rows, numeric)
            + _left_out(len(listed), len(shown), title.lower()))


def _time_to_converge(report: DriftReport) -> str:
    rows = [[r.revision[:12], moment(r.first_report_at), duration(r.seconds_to95), duration(r.seconds_to100)]
            for r in report.trend.revisions]
    if not rows:
        return ""
    header = ["Revision", "First report", "To 95 %", "To 100 %"]
    return "<h2>Time to converge</h2>" + _table(header, rows, set())


def _pairs(report: DriftReport) -> str:
    shown = report.pairs[:MAX_HTML_ROWS]
    if not shown:
        return ""
    now = report.generated_at
    rows = [[p.node, p.group, p.site, p.image, p.reason, age(now, p.since), detail_text(p.detail)]
            for p in shown]
    return ("<h2>Oldest drifting pairs</h2>"
            + _table(["Node", "Group", "Site", "Image", "Reason", "Missing for", "Detail"], rows, set())
            + _left_out(report.summary.pairs_drifting, len(shown), "drifting pairs"))


def _transfer(report: DriftReport) -> str:
    """Bytes the next jobs move per group and per site; "" without registry facts."""
    moved = report.transfer
    if moved is None:
        return ""
    rows = [["group", b.key, transfer_text(b.bytes)] for b in moved.groups]
    rows += [[f"site ({report.site_label})", b.key, transfer_text(b.bytes)] for b in moved.sites]
    unsized = f"<p>{moved.unsized_pairs:,} pairs of unknown size.</p>" if moved.unsized_pairs else ""
    return ("<h2>Bytes to transfer (registry sizes)</h2>"
            + _table(["Per", "Name", "Bytes"], rows, {2}) + unsized)
