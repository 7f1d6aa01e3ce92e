"""`plan --output markdown`: the plan for humans, e.g. as a pull-request comment (like Atlantis).

Reads the JSON-shaped plan of docs/design.md §5. Layout: a header line (revision, job API
version), one sentence of totals, the per-group summary table, with `--base` the changes per
group, then the jobs to create (name, group, node count, images), the images they pull, the
jobs to delete (name, reason), the deferred nodes (node, reason) and the warnings.

A comment must stay readable and postable (GitHub refuses comments over 65,536 characters), so
the text is kept under MAX_MARKDOWN_CHARS whatever the fleet size: the full rendering is tried
first, then ever smaller samples ("… and 1,234 more jobs"). The summary table stays whole; only
if it alone would not fit (thousands of groups) does it keep the groups with the most missing
pairs. Totals always count everything.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from reconciler.report.markdown_text import code, count, more, table
from reconciler.report.plan_changes import changes_section
from reconciler.report.plan_lists import (
    create_section,
    deferred_section,
    delete_section,
    images_section,
    warnings_section,
)
from reconciler.report.plan_registry import registry_section
from reconciler.report.plan_rollouts import rollouts_section

#: Upper bound of the Markdown plan, in characters (below GitHub's 65,536-character comments,
#: with room for a CI wrapper's own header and footer).
MAX_MARKDOWN_CHARS: Final = 60_000

# (column title, key in `summary` and in each `groups` entry)
_COUNT_COLUMNS: Final = (
    ("Nodes", "nodes"),
    ("Desired", "pairsDesired"),
    ("Present", "pairsPresent"),
    ("Missing", "pairsMissing"),
    ("In flight", "pairsInFlight"),
    ("Deferred", "nodesDeferred"),
    ("Create", "jobsCreate"),
    ("Delete", "jobsDelete"),
)

_RARE_PAIRS: Final = (
    ("pairsUnknown", "unknown (the node's image list may be cut at its cap; planned anyway)"),
    ("pairsBackingOff", "backing off after a failed pull"),
    ("pairsFailed", "failed (attempt limit reached)"),
)


@dataclass(frozen=True, slots=True)
class Detail:
    """How much of each list a rendering shows; None means everything."""

    rows: int | None  # jobs, deletions, deferred nodes, changed groups
    images_per_job: int | None
    names_per_cell: int | None  # images and nodes listed in a changes cell
    groups: int | None  # rows of the summary table


#: Tried in order until the text fits in MAX_MARKDOWN_CHARS; the last one always fits.
DETAIL_LEVELS: Final = (
    Detail(rows=None, images_per_job=5, names_per_cell=None, groups=None),
    Detail(rows=200, images_per_job=5, names_per_cell=20, groups=None),
    Detail(rows=50, images_per_job=5, names_per_cell=10, groups=None),
    Detail(rows=20, images_per_job=3, names_per_cell=5, groups=None),
    Detail(rows=5, images_per_job=2, names_per_cell=3, groups=None),
    Detail(rows=5, images_per_job=1, names_per_cell=3, groups=100),
    Detail(rows=3, images_per_job=1, names_per_cell=2, groups=20),
)


def render_plan_markdown(plan: Mapping[str, Any], *, limit: int = MAX_MARKDOWN_CHARS) -> str:
    """Render `plan` (docs/design.md §5 object) as Markdown of at most `limit` characters.

    Lists are shown whole when they fit, else sampled with counts of what is left out; the
    summary table and totals always count everything. No trailing newline. Never raises for a
    plan whose optional parts (groups, changes, reasons) are missing: absent counts print "–".
    """
    for detail in DETAIL_LEVELS:
        rendered = _render(plan, detail)
        if len(rendered) <= limit:
            return rendered
    # Only reachable with a tiny `limit` or absurdly long names: cut, and say so.
    note = "\n\n_(plan cut to fit; use `--output json` for all of it)_"
    return rendered[: max(0, limit - len(note))] + note


def _render(plan: Mapping[str, Any], detail: Detail) -> str:
    summary: Mapping[str, Any] = plan.get("summary") or {}
    create = plan.get("create") or []
    changes = plan.get("changes")
    sections = [
        _header(plan),
        _totals(summary),
        _groups_section(plan, summary, detail),
        # With --base, what the change does is the review's subject: it comes right after totals.
        changes_section(changes, detail.rows, detail.names_per_cell) if changes else "",
        rollouts_section(plan.get("rollouts") or [], plan.get("gated") or []),  # docs/rollout.md
        registry_section(plan.get("registry")),  # docs/registry.md
        create_section(create, detail.rows, detail.images_per_job),
        images_section(create, detail.rows),
        delete_section(plan.get("delete") or [], detail.rows),
        deferred_section(plan.get("deferred") or [], detail.rows),
        warnings_section(plan.get("warnings") or [], detail.rows),
    ]
    if detail is not DETAIL_LEVELS[0]:
        sections.append("_Lists are sampled to keep this comment short; "
                        "`edgefleet plan --output json` prints the whole plan._")
    return "\n\n".join(s for s in sections if s)


def _header(plan: Mapping[str, Any]) -> str:
    revision = plan.get("revision")
    shown = code(str(revision)[:12]) if revision else "working tree"
    return (f"### edgefleet plan · revision {shown} · "
            f"jobs {code(plan.get('jobApiVersion') or 'unknown')}")


def _totals(summary: Mapping[str, Any]) -> str:
    create, delete = summary.get("jobsCreate"), summary.get("jobsDelete")
    if create == 0 and delete == 0:
        headline = "**No changes.** Every desired image is present, being pulled or waiting."
    else:
        headline = f"**{count(create)} jobs to create, {count(delete)} to delete.**"
    pairs = [f"{count(summary.get('pairsMissing'))} of {count(summary.get('pairsDesired'))} desired "
             f"(node, image) pairs missing", f"{count(summary.get('pairsInFlight'))} in flight"]
    # Rarer classes are named only when they occur, so the usual sentence stays short.
    for key, words in _RARE_PAIRS:
        if _int(summary.get(key)):
            pairs.append(f"{count(summary.get(key))} {words}")
    return (f"{headline} {', '.join(pairs)}; {count(summary.get('nodes'))} nodes in "
            f"{count(summary.get('groups'))} groups, {count(summary.get('nodesDeferred'))} deferred.")


def group_entries(plan: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any]]]:
    """The plan's `groups` as (name, counts) sorted by name; accepts a mapping keyed by group
    name or a list of objects carrying `name`."""
    raw = plan.get("groups") or {}
    if isinstance(raw, Mapping):
        return sorted(((str(name), entry) for name, entry in raw.items()), key=lambda pair: pair[0])
    return sorted(((str(e.get("name", "?")), e) for e in raw), key=lambda pair: pair[0])


def _groups_section(plan: Mapping[str, Any], summary: Mapping[str, Any], detail: Detail) -> str:
    entries = group_entries(plan)
    if detail.groups is not None and len(entries) > detail.groups:
        # Keep the groups a reviewer must look at: most missing pairs first, then by name.
        by_need = sorted(entries, key=lambda e: (-_int(e[1].get("pairsMissing")), e[0]))
        shown = sorted(by_need[: detail.groups], key=lambda e: e[0])
    else:
        shown = entries
    rows = [[code(name) + (" (suspended)" if entry.get("suspended") else "")]
            + [count(entry.get(key)) for _, key in _COUNT_COLUMNS] for name, entry in shown]
    if len(shown) < len(entries):
        rows.append([more(len(entries) - len(shown), "groups (in the total)")] + [""] * len(_COUNT_COLUMNS))
    rows.append(["**Total**"] + [f"**{count(summary.get(key))}**" for _, key in _COUNT_COLUMNS])
    header = ["Group"] + [title for title, _ in _COUNT_COLUMNS]
    return "\n".join(["#### Groups", "", *table(header, rows, numeric=range(1, len(header)))])


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0
