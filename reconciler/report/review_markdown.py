"""The pull-request review comment: what merging a change does to the rollout, from two plans
of the same cluster facts (the base revision's and the head revision's, the head planned with
`--base` so it carries the per-group `changes`).

Layout: a hidden marker (how `edgefleet review` finds its own comment to edit it in place), a
verdict, the exact commits, one headline sentence, what a reviewer must see first (errors,
then warnings the change brings), one table row per group whose rollout changes (images added
and removed, nodes, jobs base -> head, pairs becoming missing, deferred nodes), the images and
a few of the nodes each group's change reaches, then the head plan itself in a `<details>`
block. Pure and deterministic (the same plans give the same bytes); at most `limit`
characters whatever the fleet size: lists are sampled, and the details block is given what is
left or replaced by a line saying it was left out.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from reconciler.report.markdown_text import code, count, listing, more, sample, table, text
from reconciler.report.plan_changes import change_entries
from reconciler.report.plan_lists import GROUP_LABEL
from reconciler.report.plan_markdown import group_entries, render_plan_markdown
from reconciler.report.plan_registry import new_holds, registry_section

#: The hidden line that marks edgefleet's comment on a pull request (one comment per PR).
REVIEW_MARKER: Final = "<!-- edgefleet:review -->"
#: Upper bound of the comment (GitHub refuses comments over 65,536 characters).
MAX_REVIEW_CHARS: Final = 60_000
_MIN_DETAILS: Final = 1_500  # below this, the head plan is left out rather than cut to nothing

# (rows of the group table, names listed per group) tried in order until the comment fits.
_LEVELS: Final = ((None, None), (200, 10), (50, 5), (20, 3), (5, 2), (1, 1))


@dataclass(frozen=True)
class ReviewInput:
    """What a review comment is rendered from.

    `base_plan`/`head_plan` are `Plan.to_dict()` objects (None when that revision could not be
    planned: `errors` say why); `head_plan` carries `changes` (planned with the base).
    """

    base_revision: str | None
    head_revision: str | None
    base_plan: Mapping[str, Any] | None
    head_plan: Mapping[str, Any] | None
    errors: Sequence[str] = ()
    notes: Sequence[str] = ()  # e.g. "cluster as of a snapshot taken at ..."
    fleet_path: str | None = None


def review_has_changes(review: ReviewInput) -> bool:
    """True when merging alters the rollout: a group's desired images or nodes change, or the
    head plan would create or delete jobs that the base plan would not."""
    head = review.head_plan or {}
    if (head.get("changes") or {}).get("groups"):
        return True
    return _job_totals(head) != _job_totals(review.base_plan or {})


def render_review(review: ReviewInput, *, limit: int = MAX_REVIEW_CHARS) -> str:
    """The review comment as Markdown of at most `limit` characters, no trailing newline."""
    footer = (f"<sub>Posted by `edgefleet review`; edited in place on every push "
              f"(head {code(_short(review.head_revision))}).</sub>")
    for rows, names in _LEVELS:
        top = "\n\n".join(s for s in _top(review, rows, names) if s)
        budget = limit - len(top) - len(footer) - 200
        if budget >= _MIN_DETAILS or (rows, names) == _LEVELS[-1]:
            break
    details = _details(review.head_plan, budget)
    text_ = "\n\n".join(s for s in (top, details, footer) if s)
    if len(text_) > limit:  # only with a tiny limit or absurd names: cut, and say so
        note = "\n\n_(comment cut to fit; run `edgefleet plan --base ... -o json` for all of it)_"
        text_ = text_[: max(0, limit - len(note))] + note
    return text_


def _top(review: ReviewInput, rows: int | None, names: int | None) -> list[str]:
    head = review.head_plan
    return [
        REVIEW_MARKER,
        _title(review),
        _commits(review),
        _headline(review) if head is not None else "",
        _must_see(review, rows),
        _groups_table(review, rows, names) if head is not None else "",
        registry_section((head or {}).get("registry")),  # --registry: holds, bytes (docs/registry.md)
    ]


def _title(review: ReviewInput) -> str:
    if review.errors or review.head_plan is None:
        verdict = "the head revision cannot be planned"
    elif review_has_changes(review):
        verdict = "this change alters the rollout"
    else:
        verdict = "no change to the rollout"
    return f"### edgefleet review: {verdict}"


def _commits(review: ReviewInput) -> str:
    head = review.head_plan or review.base_plan or {}
    base, head_sha = code(review.base_revision or "unknown"), code(review.head_revision or "unknown")
    parts = [f"Base {base} → head {head_sha}"]
    if review.fleet_path:
        parts.append(f"fleet {code(review.fleet_path)}")
    parts.append(f"jobs {code(head.get('jobApiVersion') or 'unknown')}")
    lines = [" · ".join(parts)]
    lines += [f"_{text(n)}_" for n in review.notes]
    return "  \n".join(lines)


def _headline(review: ReviewInput) -> str:
    head = review.head_plan or {}
    entries = change_entries(head.get("changes") or {})
    added = sum(len(e.get("imagesAdded") or ()) for _, e in entries)
    removed = sum(len(e.get("imagesRemoved") or ()) for _, e in entries)
    reached = _reached_nodes(head)
    summary = head.get("summary") or {}
    create, delete = _job_totals(head)
    parts = [f"+{added:,} image{_s(added)} in {len(entries):,} group{_s(len(entries))}"
             f" reaching {sum(len(v) for v in reached.values()):,} node(s) now",
             f"{create:,} job{_s(create)} to create, {delete:,} to delete",
             f"{count(summary.get('nodesDeferred'))} nodes deferred",
             "nothing removed" if removed == 0 else f"−{removed:,} image{_s(removed)} removed"]
    return "**" + "; ".join(parts) + ".**"


def _must_see(review: ReviewInput, rows: int | None) -> str:
    items = [f"- :x: **error:** {text(e, 400)}" for e in review.errors]
    items += [f"- :warning: {text(w, 400)}" for w in _warnings(review)]
    if not items:
        return ""
    shown, left_out = sample(items, rows if rows is None else max(rows, 10))
    lines = ["#### Look at these first", "", *shown]
    if left_out:
        lines.append(f"- {more(left_out, 'errors and warnings')}")
    return "\n".join(lines)


def review_warnings(review: ReviewInput) -> list[tuple[str, str]]:
    """(kind, text) of each warning the change brings, in the order the comment lists them:
    "plan" (a head warning the base does not have), "no-base" (the base could not be
    planned), "empty-group" (a group that now selects no node), "nothing-desired" (the head
    desires no image on any node)."""
    head, base = review.head_plan or {}, review.base_plan
    old = set((base or {}).get("warnings") or ())
    found = [("plan", str(w)) for w in head.get("warnings") or () if w not in old]
    found += [("registry", f"`{h['image']}` is held ({h['reason']}) on {h['nodes']} node(s) of group "
                           f"`{h['group']}`: {h['detail']}") for h in new_holds(head, base or {})]
    if review.head_plan is not None and base is None:
        found.append(("no-base", "the base revision could not be planned; the comparison is against nothing"))
    base_nodes = {name: e.get("nodes") for name, e in group_entries(base or {})}
    for name, entry in group_entries(head):
        if entry.get("nodes") == 0 and not entry.get("suspended") and base_nodes.get(name) != 0:
            found.append(("empty-group", f"group `{name}` now selects no node"))
    summary = head.get("summary") or {}
    if review.head_plan is not None and summary.get("pairsDesired") == 0:
        found.append(("nothing-desired", "the head revision desires no image on any node"))
    return found


def _warnings(review: ReviewInput) -> list[str]:
    return [text_ for _, text_ in review_warnings(review)]


def _groups_table(review: ReviewInput, rows: int | None, names: int | None) -> str:
    head, base = review.head_plan or {}, review.base_plan or {}
    changed = dict(change_entries(head.get("changes") or {}))
    before, after = dict(group_entries(base)), dict(group_entries(head))
    touched = sorted(name for name in set(before) | set(after) | set(changed)
                     if name in changed or _counts(before.get(name)) != _counts(after.get(name)))
    title = f"#### Rollout per group ({len(touched):,} group{_s(len(touched))} change)"
    if not touched:
        return f"{title}\n\nNo group's images, nodes or jobs change."
    header = ["Group", "Images +/−", "Nodes", "Jobs to create", "Jobs to delete",
              "Pairs becoming missing", "Deferred"]
    shown, left_out = sample(touched, rows)
    table_rows = []
    for name in shown:
        change, old, new = changed.get(name) or {}, before.get(name) or {}, after.get(name) or {}
        status = change.get("status")
        table_rows.append([
            code(name) + (f" ({status})" if status in ("added", "removed") else ""),
            f"+{len(change.get('imagesAdded') or ())} / −{len(change.get('imagesRemoved') or ())}",
            _arrow(old.get("nodes"), new.get("nodes")),
            _arrow(old.get("jobsCreate"), new.get("jobsCreate")),
            _arrow(old.get("jobsDelete"), new.get("jobsDelete")),
            count(change.get("pairsBecomingMissing", 0 if change == {} else None)),
            count(new.get("nodesDeferred")),
        ])
    lines = [title, "", *table(header, table_rows, numeric=range(2, len(header)))]
    if left_out:
        lines += ["", more(left_out, "groups change (in the totals above)")]
    reached = _reached_nodes(head)
    details = [_group_detail(name, changed.get(name) or {}, reached.get(name, set()), names)
               for name in shown]
    lines += ["", *(d for d in details if d)]
    return "\n".join(lines).rstrip()


def _group_detail(name: str, change: Mapping[str, Any], reached: set[str], names: int | None) -> str:
    parts = []
    for title, key in (("adds", "imagesAdded"), ("removes", "imagesRemoved"),
                       ("selects new nodes", "nodesAdded"), ("no longer selects", "nodesRemoved")):
        values = list(change.get(key) or ())
        if values:
            parts.append(f"{title} {listing(values, names)}")
    if reached:
        parts.append(f"its jobs reach {len(reached):,} node{_s(len(reached))} "
                     f"({listing(sorted(reached), names if names is not None else 10)})")
    return f"- {code(name)}: " + "; ".join(parts) if parts else ""


def _details(head: Mapping[str, Any] | None, budget: int) -> str:
    if head is None:
        return ""
    if budget < _MIN_DETAILS:
        return "_The head plan is left out to keep this comment under the size limit; " \
               "run `edgefleet plan --base ...` for it._"
    body = render_plan_markdown(head, limit=budget - 120)
    return f"<details><summary>Plan of the head revision</summary>\n\n{body}\n\n</details>"


def _reached_nodes(plan: Mapping[str, Any]) -> dict[str, set[str]]:
    """Per group, the nodes the plan's jobs to create target."""
    reached: dict[str, set[str]] = defaultdict(set)
    for job in plan.get("create") or ():
        group = ((job.get("metadata") or {}).get("labels") or {}).get(GROUP_LABEL, "?")
        template = (job.get("spec") or {}).get("imagePrePullTemplate") or {}
        reached[str(group)].update(str(n) for n in template.get("nodeNames") or ())
    return reached


def _job_totals(plan: Mapping[str, Any]) -> tuple[int, int]:
    summary = plan.get("summary") or {}
    return int(summary.get("jobsCreate") or 0), int(summary.get("jobsDelete") or 0)


def _counts(entry: Mapping[str, Any] | None) -> tuple[Any, ...]:
    entry = entry or {}
    return tuple(entry.get(k) for k in ("nodes", "pairsDesired", "jobsCreate", "jobsDelete"))


def _arrow(old: Any, new: Any) -> str:
    return count(new) if old == new else f"{count(old)} → {count(new)}"


def _short(revision: str | None) -> str:
    return revision[:12] if revision else "working tree"


def _s(n: int) -> str:
    return "" if n == 1 else "s"
