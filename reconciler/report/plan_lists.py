"""The list sections of a Markdown plan: jobs to create, images they pull, jobs to delete,
deferred nodes, warnings. Each takes its row limits (None: everything) and counts what it
leaves out, so a sampled section still says how much there is."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from typing import Any, Final

from reconciler.report.markdown_text import code, count, listing, more, sample, table, text

GROUP_LABEL: Final = "edgefleet.io/group"
_REASON_KINDS: Final = 5  # distinct reasons counted before "… other reasons"
_NUMBER = re.compile(r"\d+")


def _template(job: Mapping[str, Any]) -> Mapping[str, Any]:
    return (job.get("spec") or {}).get("imagePrePullTemplate") or {}


def create_section(jobs: Sequence[Mapping[str, Any]], rows: int | None, images_per_job: int | None) -> str:
    """Jobs to create: name, group, node count, image count and (a sample of) its images."""
    title = f"#### Jobs to create ({len(jobs):,})"
    if not jobs:
        return f"{title}\n\nNone."
    shown, left_out = sample(jobs, rows)
    table_rows = []
    for job in shown:
        metadata = job.get("metadata") or {}
        template = _template(job)
        images = list(template.get("images") or ())
        table_rows.append([
            code(metadata.get("name", "?")),
            code((metadata.get("labels") or {}).get(GROUP_LABEL, "?")),
            count(len(template.get("nodeNames") or ())),
            count(len(images)),
            listing(images, images_per_job),
        ])
    header = ["Job", "Group", "Nodes", "Images", "Image references"]
    lines = [title, "", *table(header, table_rows, numeric=(2, 3))]
    if left_out:
        lines += ["", more(left_out, "jobs")]
    return "\n".join(lines)


def images_section(jobs: Sequence[Mapping[str, Any]], rows: int | None) -> str:
    """Every image the new jobs pull: in how many jobs, onto how many nodes (a job's nodes each
    desire each of its images; KubeEdge skips an image a node already holds)."""
    if not jobs:
        return ""
    nodes: dict[str, int] = defaultdict(int)
    jobs_with: dict[str, int] = defaultdict(int)
    for job in jobs:
        template = _template(job)
        targets = len(template.get("nodeNames") or ())
        for image in template.get("images") or ():
            nodes[image] += targets
            jobs_with[image] += 1
    ranked = sorted(nodes, key=lambda image: (-nodes[image], image))
    shown, left_out = sample(ranked, rows)
    table_rows = [[code(image), count(jobs_with[image]), count(nodes[image])] for image in shown]
    lines = [f"#### Images to pull ({len(ranked):,})", "",
             *table(["Image", "Jobs", "Target nodes"], table_rows, numeric=(1, 2))]
    if left_out:
        lines += ["", more(left_out, "images")]
    return "\n".join(lines)


def delete_section(deletions: Sequence[Mapping[str, Any]], rows: int | None) -> str:
    """Jobs to delete: a count per reason, then name and reason per job."""
    return _reasoned("Jobs to delete", "Job", "name", "jobs", deletions, rows)


def deferred_section(deferred: Sequence[Mapping[str, Any]], rows: int | None) -> str:
    """Deferred nodes: a count per reason, then node and reason per node."""
    return _reasoned("Deferred nodes", "Node", "node", "nodes", deferred, rows)


def warnings_section(warnings: Sequence[Any], rows: int | None) -> str:
    """The plan's warnings (skipped nodes, conflicting groups), one bullet each."""
    if not warnings:
        return ""
    shown, left_out = sample(warnings, rows)
    lines = [f"#### Warnings ({len(warnings):,})", "", *(f"- {text(w, 400)}" for w in shown)]
    if left_out:
        lines.append(f"- {more(left_out, 'warnings')}")
    return "\n".join(lines)


def _reasoned(title: str, column: str, key: str, noun: str,
              entries: Sequence[Mapping[str, Any]], rows: int | None) -> str:
    heading = f"#### {title} ({len(entries):,})"
    if not entries:
        return f"{heading}\n\nNone."
    shown, left_out = sample(entries, rows)
    table_rows = [[code(e.get(key, "?")), text(e.get("reason"))] for e in shown]
    lines = [heading, "", *_by_reason(entries), "", *table([column, "Reason"], table_rows)]
    if left_out:
        lines += ["", more(left_out, noun)]
    return "\n".join(lines)


def _by_reason(entries: Sequence[Mapping[str, Any]]) -> list[str]:
    """Bullets counting entries per kind of reason, most frequent first. Numbers inside a reason
    ("3 image(s) wait") become N, so reasons that differ only by a count are counted together."""
    kinds = Counter(_NUMBER.sub("N", " ".join(str(e.get("reason") or "no reason given").split()))
                    for e in entries)
    ranked = sorted(kinds.items(), key=lambda item: (-item[1], item[0]))
    shown, left_out = sample(ranked, _REASON_KINDS)
    lines = [f"- {n:,} × {text(reason)}" for reason, n in shown]
    if left_out:
        lines.append(f"- {sum(n for _, n in ranked[_REASON_KINDS:]):,} × {left_out:,} other reasons")
    return lines
