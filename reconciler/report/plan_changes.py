"""The `changes` section of a Markdown plan (`plan --base REV`): what the change does per group.

Reads `plan["changes"]` (planner.changes.FleetChanges.to_dict()): `groups`, one entry per group
the change touches, with `status` (added, removed, changed), images and nodes added and removed
(lists of names) and `pairsBecomingMissing`; `base` (the base revision) when present.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from reconciler.report.markdown_text import code, count, listing, more, sample, table

# (column title, key of the list in a group entry)
_NAME_COLUMNS = (
    ("Images added", "imagesAdded"),
    ("Images removed", "imagesRemoved"),
    ("Nodes added", "nodesAdded"),
    ("Nodes removed", "nodesRemoved"),
)
_MISSING_KEY = "pairsBecomingMissing"


def change_entries(changes: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any]]]:
    """The changed groups as (name, entry) sorted by name; `groups` may be a list of objects
    carrying `name` or a mapping keyed by group name."""
    raw = changes.get("groups") or []
    if isinstance(raw, Mapping):
        return sorted(((str(name), entry) for name, entry in raw.items()), key=lambda pair: pair[0])
    return sorted(((str(e.get("name", "?")), e) for e in raw), key=lambda pair: pair[0])


def changes_section(changes: Mapping[str, Any], rows: int | None, names_per_cell: int | None) -> str:
    """Markdown for `changes`: a count table of every changed group (sampled to `rows`), then
    the names each change adds and removes (each list sampled to `names_per_cell`)."""
    base = changes.get("base")
    entries = change_entries(changes)
    since = code(str(base)[:12]) if base else "the base revision"
    title = f"#### Changes from {since} ({len(entries):,} group{'' if len(entries) == 1 else 's'})"
    if not entries:
        return f"{title}\n\nThe change does not alter what any group desires."
    shown, left_out = sample(entries, rows)
    header = ["Group"] + [t for t, _ in _NAME_COLUMNS] + ["Pairs becoming missing"]
    table_rows = [
        [_group_cell(name, entry)] + [count(len(_names(entry, key))) for _, key in _NAME_COLUMNS]
        + [count(entry.get(_MISSING_KEY))]
        for name, entry in shown
    ]
    lines = [title, "", *table(header, table_rows, numeric=range(1, len(header)))]
    if left_out:
        lines += ["", more(left_out, "changed groups")]
    details = [_detail_line(name, entry, names_per_cell) for name, entry in shown]
    lines += ["", *(d for d in details if d)]
    return "\n".join(lines).rstrip()


def _group_cell(name: str, entry: Mapping[str, Any]) -> str:
    status = entry.get("status")
    return code(name) + (f" ({status})" if status in ("added", "removed") else "")


def _names(entry: Mapping[str, Any], key: str) -> Sequence[Any]:
    value = entry.get(key) or ()
    return sorted(value) if not isinstance(value, list | tuple) else value


def _detail_line(name: str, entry: Mapping[str, Any], names_per_cell: int | None) -> str:
    parts = []
    for title, key in _NAME_COLUMNS:
        values = _names(entry, key)
        if values:
            parts.append(f"{title.lower()} {listing(values, names_per_cell)}")
    return f"- {code(name)}: " + "; ".join(parts) if parts else ""
