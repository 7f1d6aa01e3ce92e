"""What `edgefleet demo` prints, rendered as on a CI log (#16 item 6): every numbered step is
shown, in order and without gaps, however short it lasts; the closing summary lists what it
counts (or says how many more); a group with failed pairs never reads "converged" alone."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime

import pytest
from rich.console import Console

from reconciler.cli.demo_view import SUMMARY_ROWS, DemoStatus, LiveDisplay, groups_table, summary
from reconciler.controller.view import ControllerSnapshot, CycleView, GroupView, NodeNote

T0 = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)


def console() -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, width=150, force_terminal=False, color_system=None), out


def snapshot(*groups: GroupView, deferred: int = 0, failing: int = 0) -> ControllerSnapshot:
    view = CycleView(
        outcome="converged", message="converged", finished_at=T0, duration=0.1,
        revision_in_force="c" * 40, groups=groups,
        deferred=tuple(NodeNote(f"edge-{i:03d}", "node is not Ready") for i in range(deferred)),
        failing=tuple(NodeNote(f"edge-f{i:03d}", "no space left on device",
                               image="docker.io/library/nginx:1.25", attempts=2)
                      for i in range(failing)))
    return ControllerSnapshot(repo="git://127.0.0.1/fleet.git", branch="main", path="",
                              identity="demo", started_at=T0, last=view)


def test_every_step_is_printed_in_order_even_when_it_lasts_less_than_a_line_period() -> None:
    out_console, out = console()
    status = DemoStatus(nodes=40)
    snap = snapshot(GroupView("line", desired=4, present=4, missing=0))
    with LiveDisplay(out_console, status, every=3600.0) as display:
        for phase in ("1. converging the fleet", "2. pushed abc (line: a -> b)",
                      "3. the controller applied abc 0.4 s after the push; converging"):
            status.phase = phase
            display.update(snap)
            display.update(snap)  # the same phase again: no second line within the period
    steps = [int(m) for m in re.findall(r"\] (\d+)\. ", out.getvalue())]
    assert steps == [1, 2, 3], out.getvalue()


@pytest.mark.parametrize("deferred", [3, SUMMARY_ROWS, 7, 12])
def test_the_summary_lists_every_deferred_node_it_counts_or_says_how_many_more(deferred: int) -> None:
    out_console, out = console()
    summary(out_console, snapshot(GroupView("line", 10, 3, 7), deferred=deferred),
            phases=[("first convergence", 12.0, True)], status_url="http://127.0.0.1:1/status")
    text = out.getvalue()
    counted = int(re.search(r"(\d+) node\(s\) deferred", text).group(1))  # type: ignore[union-attr]
    listed = len(re.findall(r"^\s+deferred edge-", text, re.M))
    more = re.search(r"and (\d+) more deferred node\(s\)", text)
    assert counted == deferred
    assert listed + (int(more.group(1)) if more else 0) == counted, text
    assert listed == min(deferred, SUMMARY_ROWS)


def test_the_summary_lists_every_node_with_failed_pairs_or_says_how_many_more() -> None:
    out_console, out = console()
    summary(out_console, snapshot(GroupView("line", 10, 2, 8, failed=8), failing=8),
            phases=[], status_url="http://127.0.0.1:1/status")
    text = out.getvalue()
    assert "8 pair(s) failed for good" in text
    assert len(re.findall(r"^\s+failed\s+edge-f", text, re.M)) == SUMMARY_ROWS
    assert f"and {8 - SUMMARY_ROWS} more node(s) with failed pairs" in text


@pytest.mark.parametrize(("group", "state"), [
    pytest.param(GroupView("a", 360, 336, 24, failed=6, deferred_nodes=3), "converged, 6 failed",
                 id="failed-pairs"),
    pytest.param(GroupView("a", 360, 360, 0), "converged", id="all-present"),
    pytest.param(GroupView("a", 360, 350, 10, failed=4, backing_off=6), "retrying", id="retrying"),
    pytest.param(GroupView("a", 360, 300, 60, in_flight=60, failed=2), "converging", id="converging"),
    pytest.param(GroupView("a", 360, 0, 360, failed=2, suspended=True), "suspended", id="suspended"),
])
def test_the_state_of_a_group_with_failed_pairs_does_not_read_as_done(group: GroupView,
                                                                         state: str) -> None:
    out_console, out = console()
    out_console.print(groups_table(snapshot(group).last))
    row = next(line for line in out.getvalue().splitlines() if line.lstrip("│┃ ").startswith("a "))
    assert row.rstrip(" │┃").endswith(state), row
    assert group.state == state
