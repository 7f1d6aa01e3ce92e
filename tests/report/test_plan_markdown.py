"""The Markdown plan: complete for small plans, bounded and still truthful for huge ones."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from reconciler.report import MAX_MARKDOWN_CHARS, render_plan
from reconciler.report.plan_markdown import render_plan_markdown

PlanDict = dict[str, Any]


def _table_rows(markdown: str, heading: str) -> list[list[str]]:
    """The body rows of the table under `heading`, as lists of cells (pipes unescaped)."""
    section = markdown.split(heading, 1)[1].split("\n#### ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ")][1:]
    return [[cell.strip().replace("\\|", "|") for cell in re.split(r"(?<!\\)\|", row)[1:-1]]
            for row in rows]


def test_small_plan_lists_every_job_deletion_and_deferred_node(small_plan: PlanDict) -> None:
    text = render_plan(small_plan, "markdown")
    jobs = _table_rows(text, "#### Jobs to create (3)")
    assert [(r[0], r[1], r[2]) for r in jobs] == [
        ("`ef-berlin-1a2b3c4d5e`", "`berlin`", "2"),
        ("`ef-berlin-9f8e7d6c5b`", "`berlin`", "1"),
        ("`ef-shanghai-0a1b2c3d4e`", "`shanghai`", "3"),
    ]
    assert "`registry.example.com/edge/agent:1.5.0`" in jobs[0][4]
    assert _table_rows(text, "#### Jobs to delete (2)") == [
        ["`ef-berlin-old0000001`", "no longer desired on any of its nodes"],
        ["`ef-shanghai-stuck00001`", "stuck: running past its deadline"],
    ]
    assert _table_rows(text, "#### Deferred nodes (1)") == [
        ["`edge-b-04`", "node is not Ready; 2 image(s) wait for it"]]
    assert "lack the label node-role.kubernetes.io/edge" in text
    assert "more" not in text and "sampled" not in text


def test_header_names_revision_and_job_api_version(small_plan: PlanDict) -> None:
    first_line = render_plan(small_plan, "markdown").splitlines()[0]
    assert "`0123456789ab`" in first_line
    assert "`operations.kubeedge.io/v1alpha2`" in first_line


def test_working_tree_plan_says_so(small_plan: PlanDict) -> None:
    small_plan["revision"] = None
    assert "working tree" in render_plan(small_plan, "markdown").splitlines()[0]


def test_summary_table_has_a_row_per_group_and_the_totals(small_plan: PlanDict) -> None:
    rows = _table_rows(render_plan(small_plan, "markdown"), "#### Groups")
    assert rows == [
        ["`berlin`", "4", "8", "3", "5", "0", "1", "2", "1"],
        ["`shanghai`", "3", "6", "3", "3", "0", "0", "1", "1"],
        ["**Total**", "**7**", "**14**", "**6**", "**8**", "**0**", "**1**", "**3**", "**2**"],
    ]


def test_nothing_to_do_reads_as_no_changes(small_plan: PlanDict) -> None:
    small_plan["summary"].update(jobsCreate=0, jobsDelete=0)
    small_plan.update(create=[], delete=[])
    text = render_plan(small_plan, "markdown")
    assert "**No changes.**" in text
    assert "#### Jobs to create (0)\n\nNone." in text


def test_rare_pair_classes_are_named_only_when_present(small_plan: PlanDict) -> None:
    assert "backing off" not in render_plan(small_plan, "markdown")
    small_plan["summary"]["pairsBackingOff"] = 1234
    assert "1,234 backing off after a failed pull" in render_plan(small_plan, "markdown")


@pytest.mark.parametrize(("reason", "cell"), [
    pytest.param("stuck | deadline\npassed", "stuck | deadline passed", id="pipe-and-newline"),
    pytest.param("pull failed: <img src=x onerror=alert(1)>", "pull failed: &lt;img src=x onerror=alert(1)>",
                 id="raw-html"),
    pytest.param("x" * 500, "x" * 199 + "…", id="overlong"),
])
def test_free_text_cannot_break_a_table_or_inject_html(small_plan: PlanDict, reason: str, cell: str) -> None:
    small_plan["delete"][0]["reason"] = reason
    rows = _table_rows(render_plan(small_plan, "markdown"), "#### Jobs to delete (2)")
    assert rows[0] == ["`ef-berlin-old0000001`", cell]


def test_reasons_are_counted_by_kind(small_plan: PlanDict) -> None:
    small_plan["deferred"] = [{"node": f"edge-{i}", "reason": f"node is not Ready; {i} image(s) wait"}
                              for i in range(1, 4)]
    assert "- 3 × node is not Ready; N image(s) wait" in render_plan(small_plan, "markdown")


def test_fleet_of_100000_nodes_fits_and_keeps_the_whole_summary(
        fleet_plan: Callable[..., PlanDict]) -> None:
    plan = fleet_plan(nodes=100_000, groups=42)
    text = render_plan(plan, "markdown")
    assert len(text) <= MAX_MARKDOWN_CHARS
    rows = _table_rows(text, "#### Groups")
    assert [r[0] for r in rows[:-1]] == [f"`{g['name']}`" for g in plan["groups"]]
    assert rows[-1][:2] == ["**Total**", f"**{plan['summary']['nodes']:,}**"]
    shown_jobs = _table_rows(text, f"#### Jobs to create ({len(plan['create']):,})")
    assert 0 < len(shown_jobs) < len(plan["create"])
    assert f"… and {len(plan['create']) - len(shown_jobs):,} more jobs" in text
    shown_nodes = _table_rows(text, f"#### Deferred nodes ({len(plan['deferred']):,})")
    assert f"… and {len(plan['deferred']) - len(shown_nodes):,} more nodes" in text
    assert "`edgefleet plan --output json` prints the whole plan" in text


def test_base_changes_of_a_large_fleet_are_sampled_but_counted(
        fleet_plan: Callable[..., PlanDict]) -> None:
    plan = fleet_plan(nodes=100_000, groups=42)
    plan["changes"] = {"groups": [
        {"name": g["name"], "status": "changed",
         "imagesAdded": [f"registry.example.com/a/{i}:2" for i in range(30)], "imagesRemoved": [],
         "nodesAdded": [f"edge-{g['name']}-{i:05d}" for i in range(2_000)],
         "nodesRemoved": [], "pairsBecomingMissing": 62_000}
        for g in plan["groups"]]}
    text = render_plan(plan, "markdown")
    assert len(text) <= MAX_MARKDOWN_CHARS
    rows = _table_rows(text, "#### Changes from the base revision (42 groups)")
    assert rows and all(r[1:] == ["30", "0", "2,000", "0", "62,000"] for r in rows)
    sampled = re.search(r"nodes added ((?:`[^`]+`(?:, )?)+) … and ([\d,]+) more", text)
    assert sampled is not None
    assert sampled[1].count("`") // 2 + int(sampled[2].replace(",", "")) == 2_000


def test_thousands_of_groups_keep_the_neediest_and_the_totals(
        fleet_plan: Callable[..., PlanDict]) -> None:
    plan = fleet_plan(nodes=60_000, groups=3_000, images=2)
    plan["groups"][1234]["pairsMissing"] = 10**9  # the group a reviewer must see
    text = render_plan(plan, "markdown")
    assert len(text) <= MAX_MARKDOWN_CHARS
    rows = _table_rows(text, "#### Groups")
    assert f"`{plan['groups'][1234]['name']}`" in [r[0] for r in rows]
    assert rows[-2][0].endswith("more groups (in the total)")
    assert rows[-1][1] == f"**{plan['summary']['nodes']:,}**"


@pytest.mark.parametrize("limit", [pytest.param(200, id="below-any-level"),
                                   pytest.param(2_000, id="tight")])
def test_a_tight_limit_is_never_exceeded(fleet_plan: Callable[..., PlanDict], limit: int) -> None:
    assert len(render_plan_markdown(fleet_plan(nodes=5_000, groups=10), limit=limit)) <= limit


def test_same_plan_renders_the_same_text(fleet_plan: Callable[..., PlanDict]) -> None:
    assert render_plan(fleet_plan(nodes=20_000), "markdown") == render_plan(fleet_plan(nodes=20_000),
                                                                           "markdown")
