"""The /status page: one self-contained HTML page an operator reads (no scripts, no assets).

Pure: snapshot in, HTML out. Every value that comes from git, the cluster or an error message
goes through `html.escape`, because image names, node names and messages are not ours.
"""

from __future__ import annotations

from datetime import datetime
from html import escape

from reconciler.controller.view import ControllerSnapshot, CycleView, GroupView, JobView, NodeNote

#: Rows shown per list; the rest are counted ("and 1,234 more"), so a big fleet stays readable.
MAX_ROWS = 50

_STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem;color:#1b1f24;max-width:70rem}
h1{font-size:1.5rem;margin:0 0 .25rem}h2{font-size:1.1rem;margin-top:2rem}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.3rem .6rem;
border-bottom:1px solid #d0d7de}th{background:#f6f8fa}td.num{text-align:right}
.bar{background:#eaeef2;width:12rem;height:.8rem;display:inline-block;vertical-align:middle}
.bar span{background:#2da44e;height:100%;display:block}
.ok{color:#1a7f37}.warn{color:#9a6700}.bad{color:#cf222e}.muted{color:#57606a}
code{font-size:.9em}td code,td.bar-cell{white-space:nowrap}
"""


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _time(moment: datetime | None) -> str:
    return "never" if moment is None else moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def _short(revision: str | None) -> str:
    return "none" if not revision else revision[:12]


def _more(total: int) -> str:
    extra = total - MAX_ROWS
    return f'<p class="muted">and {extra:,} more</p>' if extra > 0 else ""


def _group_row(group: GroupView) -> str:
    state = group.state
    css = "warn" if group.failed and group.phase == "converged" else {
        "suspended": "muted", "converging": "warn", "retrying": "warn"}.get(group.phase, "ok")
    return (
        f'<tr data-group="{_e(group.name)}" data-state="{group.phase}">'
        f"<td><code>{_e(group.name)}</code></td>"
        f'<td class="bar-cell"><span class="bar"><span style="width:{group.percent:.1f}%"></span></span> '
        f"{group.percent:.1f}%</td>"
        f'<td class="num">{group.present:,} / {group.desired:,}</td>'
        f'<td class="num">{group.missing:,}</td><td class="num">{group.in_flight:,}</td>'
        f'<td class="num">{group.backing_off:,}</td><td class="num">{group.failed:,}</td>'
        f'<td class="num">{group.deferred_nodes:,}</td>'
        f'<td class="{css}">{state}</td></tr>'
    )


def _groups(view: CycleView) -> str:
    if not view.groups:
        return '<p class="muted">No groups: the fleet in force desires nothing.</p>'
    rows = "".join(_group_row(g) for g in view.groups)
    return (
        '<table id="groups"><tr><th>Group</th><th>Convergence</th><th>Present / desired pairs</th>'
        "<th>Missing</th><th>In flight</th><th>Retrying</th><th>Failed</th><th>Deferred nodes</th>"
        "<th>State</th></tr>"
        f"{rows}</table>"
    )


def _jobs(jobs: tuple[JobView, ...]) -> str:
    if not jobs:
        return '<p class="muted">No job in flight.</p>'
    rows = "".join(
        f"<tr><td><code>{_e(j.name)}</code></td><td>{_e(j.group)}</td><td>{_e(j.phase)}</td>"
        f'<td class="num">{j.nodes:,}</td><td class="num">{j.images:,}</td></tr>'
        for j in jobs[:MAX_ROWS])
    return ('<table id="jobs"><tr><th>Job</th><th>Group</th><th>Phase</th><th>Nodes</th>'
            f"<th>Images</th></tr>{rows}</table>{_more(len(jobs))}")


def _notes(notes: tuple[NodeNote, ...], table_id: str, empty: str, *, pairs: bool) -> str:
    if not notes:
        return f'<p class="muted">{_e(empty)}</p>'
    if pairs:
        head = "<tr><th>Node</th><th>Image</th><th>Attempts</th><th>Last error</th></tr>"
        rows = "".join(
            f"<tr><td><code>{_e(n.node)}</code></td><td><code>{_e(n.image)}</code></td>"
            f'<td class="num">{n.attempts}</td><td>{_e(n.reason)}</td></tr>' for n in notes[:MAX_ROWS])
    else:
        head = "<tr><th>Node</th><th>Reason</th></tr>"
        rows = "".join(f"<tr><td><code>{_e(n.node)}</code></td><td>{_e(n.reason)}</td></tr>"
                       for n in notes[:MAX_ROWS])
    return f'<table id="{table_id}">{head}{rows}</table>{_more(len(notes))}'


def _revision(snapshot: ControllerSnapshot, view: CycleView | None) -> str:
    if view is None:
        return '<p class="warn">No reconcile cycle has finished yet.</p>'
    parts = [f'<p>Revision in force: <code id="revision">{_e(_short(view.revision_in_force))}</code>'
             f"{' (branch ' + _e(snapshot.branch) + ')' if snapshot.branch else ''}</p>"]
    if view.revision_error:
        parts.append(
            f'<p class="bad" id="revision-error">Newest revision <code>{_e(_short(view.revision_seen))}'
            f"</code> failed to load; the last good revision stays in force: "
            f"{_e(view.revision_error)}</p>")
    css = {"converged": "ok", "progressing": "ok", "waiting": "warn", "transient": "warn"}.get(
        view.outcome, "bad")
    parts.append(
        f'<p>Last cycle: <span class="{css}" id="outcome">{_e(view.outcome)}</span> at '
        f"{_e(_time(view.finished_at))} in {view.duration:.2f} s: {_e(view.message)}</p>")
    return "".join(parts)


def render(snapshot: ControllerSnapshot, *, refresh_seconds: int = 5) -> str:
    """The whole /status page for `snapshot` (UTF-8 HTML, refreshes itself)."""
    view = snapshot.last
    role = "leader" if snapshot.leader else "standby (not the Lease holder: writes nothing)"
    watches = ", ".join(f"{_e(r)}: {_e(s)}" for r, s in snapshot.watches) or "not started"
    body = [
        "<h1>edgefleet controller</h1>",
        f'<p class="muted">Repository <code>{_e(snapshot.repo)}</code>'
        f"{' path <code>' + _e(snapshot.path) + '</code>' if snapshot.path else ''}; "
        f"replica <code>{_e(snapshot.identity)}</code> is {_e(role)}; "
        f"{'ready' if snapshot.ready else 'not ready yet'}; last success "
        f"{_e(_time(snapshot.last_success))}; {snapshot.cycles} cycle(s) since "
        f"{_e(_time(snapshot.started_at))}.</p>",
        f'<p class="muted">Watches: {watches}</p>',
        _revision(snapshot, view),
    ]
    if view is not None:
        body += [
            "<h2>Groups</h2>", _groups(view),
            f"<h2>Jobs in flight ({len(view.jobs_in_flight):,})</h2>", _jobs(view.jobs_in_flight),
            f"<h2>Deferred nodes ({len(view.deferred):,})</h2>",
            _notes(view.deferred, "deferred", "No node deferred.", pairs=False),
            f"<h2>Failing pairs ({len(view.failing):,})</h2>",
            _notes(view.failing, "failing", "No pair is failing.", pairs=True),
        ]
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="refresh" content="{refresh_seconds}">'
        f"<title>edgefleet status</title><style>{_STYLE}</style></head><body>"
        + "".join(body) + "</body></html>"
    )
