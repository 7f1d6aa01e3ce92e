"""What fails the status `edgefleet/plan` (report/review_checks.py), on the plans the real
planner made for the golden review (berlin removes redis, munich adds pos-sync, a new group
hamburg-shops selects no node)."""

from __future__ import annotations

import pytest

from reconciler.report.review_checks import FAIL_ON_KINDS, check_failures
from reconciler.report.review_markdown import ReviewInput
from tests.report.test_review_markdown import BASE_SHA, HEAD_SHA, real_review

EMPTY = "group `hamburg-shops` now selects no node"


@pytest.mark.parametrize(("fail_on", "reasons"), [
    pytest.param((), [], id="nothing-named-nothing-fails"),
    pytest.param(("nothing-desired",), [], id="the-head-still-desires-images"),
    pytest.param(("empty-group",), [f"--fail-on empty-group: {EMPTY}"], id="empty-group"),
    pytest.param(("warnings",), [f"--fail-on warnings: {EMPTY}"], id="any-warning"),
    pytest.param(("warnings", "empty-group"), [f"--fail-on empty-group: {EMPTY}"], id="named-kind-wins"),
    pytest.param(("removals",),
                 ["--fail-on removals: group `berlin-shops` removes docker.io/library/redis:7.2"],
                 id="removals"),
])
def test_the_status_fails_exactly_on_the_named_findings(fail_on: tuple[str, ...], reasons: list[str]) -> None:
    assert check_failures(real_review(), fail_on) == reasons


def test_a_head_that_cannot_be_planned_always_fails() -> None:
    broken = ReviewInput(BASE_SHA, HEAD_SHA, real_review().base_plan, None,
                         errors=["groups/line.yaml:6:3: unknown key \"imagez\""])
    assert check_failures(broken, ()) == ["groups/line.yaml:6:3: unknown key \"imagez\""]
    assert check_failures(ReviewInput(BASE_SHA, HEAD_SHA, None, None), ()) == [
        "the head revision cannot be planned"]


def test_an_unknown_kind_names_the_known_ones() -> None:
    with pytest.raises(ValueError, match="--fail-on 'warning': expected one of " + ", ".join(FAIL_ON_KINDS)):
        check_failures(real_review(), ("warning",))
