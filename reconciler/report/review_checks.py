"""The commit status `edgefleet/plan` of a review: what makes it fail.

An error (the head revision does not load or plan) always fails it. `--fail-on KIND` adds
what a team wants to block a merge on, so that `edgefleet/plan` can be a required check:

- `warnings`: any warning the change brings (the comment's "Look at these first" list);
- `empty-group`: a group that now selects no node;
- `nothing-desired`: the head revision desires no image on any node;
- `removals`: the change removes an image from a group (its nodes may garbage-collect it);
- `registry`: with `--registry`, the change brings an image its registry does not have (a
  typo in a tag) or one without a platform some of its nodes need.

Pure: the same review and kinds give the same reasons.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Final

from reconciler.report.plan_changes import change_entries
from reconciler.report.review_markdown import ReviewInput, review_warnings

#: The kinds `--fail-on` accepts, with what each one fails on.
FAIL_ON_KINDS: Final = {
    "warnings": "any warning the change brings",
    "empty-group": "a group that now selects no node",
    "nothing-desired": "the head revision desires no image",
    "removals": "an image removed from a group",
    "registry": "an image the registry check holds back (with --registry: not in its registry, no platform)",
}


def check_failures(review: ReviewInput, fail_on: Collection[str]) -> list[str]:
    """Why the status fails (empty: it succeeds): the head's errors, then each finding of a
    kind in `fail_on` (`--fail-on <kind>: <what>`). Raises ValueError for an unknown kind."""
    unknown = sorted(set(fail_on) - set(FAIL_ON_KINDS))
    if unknown:
        raise ValueError(f"--fail-on {unknown[0]!r}: expected one of {', '.join(FAIL_ON_KINDS)}")
    reasons = list(review.errors)
    if review.head_plan is None:
        return reasons or ["the head revision cannot be planned"]
    for kind, text in review_warnings(review):
        if "warnings" in fail_on or kind in fail_on:
            reasons.append(f"--fail-on {kind if kind in fail_on else 'warnings'}: {text}")
    if "removals" in fail_on:
        for name, entry in change_entries(review.head_plan.get("changes") or {}):
            for image in entry.get("imagesRemoved") or ():
                reasons.append(f"--fail-on removals: group `{name}` removes {image}")
    return reasons
