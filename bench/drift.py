"""`python -m bench.drift [--nodes 100000]`: the cost of a drift report (issue 9) as a ratio.

On the benchmark workload (bench.workload: 42 sites, every node missing a few images), in one
process, on the same decoded nodes and at the same instant, times per round:
- the plan alone (`plan_revision`, what every cycle does), the baseline;
- the drift report from the fleet and facts (`survey`: the same plan, the reason of every
  missing pair, the aggregation), and its Markdown rendering.
The fastest of `--repeat` rounds counts. Target: the report (plan included) <= 1.5x the plan,
and its Markdown under 60,000 characters.
"""

from __future__ import annotations

import argparse
import gc
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.workload import GROUPS, write_workload
from reconciler.drift.render_markdown import MAX_MARKDOWN_CHARS, render_report_markdown
from reconciler.drift.report import DriftSettings
from reconciler.drift.survey import Survey, survey
from reconciler.manifests import load_fleet
from reconciler.manifests.fleet import Fleet
from reconciler.observed import ClusterFacts, from_snapshots
from reconciler.planner import PlannerSettings, plan_revision
from reconciler.source import read_worktree

TARGET = 1.5
NOW = datetime(2026, 1, 1, 18, 0, tzinfo=UTC)


def _fleet(repo: Path) -> Fleet:
    loaded = load_fleet(read_worktree(repo).files)
    if loaded.fleet is None:
        raise SystemExit(f"bench fleet does not load: {loaded.errors[0]}")
    return loaded.fleet


def _plan_seconds(fleet: Fleet, facts: ClusterFacts) -> float:
    gc.collect()
    started = time.perf_counter()
    plan_revision(fleet, facts, now=NOW, revision="bench", settings=PlannerSettings())
    return time.perf_counter() - started


def _report_seconds(fleet: Fleet, facts: ClusterFacts) -> tuple[float, float, Survey, str]:
    gc.collect()
    started = time.perf_counter()
    # minAge 0: every missing pair is drift and listed, the costliest report.
    made = survey(fleet, facts, now=NOW, revision="bench", settings=DriftSettings(min_age_seconds=0))
    made_at = time.perf_counter()
    markdown = render_report_markdown(made.report)
    return made_at - started, time.perf_counter() - made_at, made, markdown


def main(argv: list[str] | None = None) -> int:
    """Run the comparison; returns 1 with --check when a target is missed, else 0."""
    parser = argparse.ArgumentParser(prog="python -m bench.drift", description=__doc__.split("\n")[0])
    parser.add_argument("--nodes", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="edgefleet-bench-drift-") as workdir:
        print(f"bench.drift: {args.nodes:,} nodes ...", file=sys.stderr, flush=True)
        workload = write_workload(args.nodes, Path(workdir), seed=args.seed, groups=GROUPS)
        facts = from_snapshots(workload.snapshot.read_bytes())
        fleet = _fleet(workload.repo)
    plan_best = report_best = render_best = float("inf")
    for _ in range(max(1, args.repeat)):
        plan_best = min(plan_best, _plan_seconds(fleet, facts))
        report, render, made, markdown = _report_seconds(fleet, facts)
        report_best, render_best = min(report_best, report), min(render_best, render)
    ratio = report_best / plan_best
    s = made.report.summary
    print("| Nodes | Plan s | Drift report s (plan included) | Ratio (<= 1.5x) | Markdown s | "
          "Markdown chars (< 60,000) | Pairs missing |")
    print("|--:|--:|--:|--:|--:|--:|--:|")
    print(f"| {args.nodes:,} | {plan_best:.2f} | {report_best:.2f} | {ratio:.2f}x | {render_best:.2f} | "
          f"{len(markdown):,} | {s.pairs_drifting + s.pairs_settling:,} |")
    met = ratio <= TARGET and len(markdown) <= MAX_MARKDOWN_CHARS
    print(f"target {'met' if met else 'MISSED'}", file=sys.stderr)
    return 1 if args.check and not met else 0


if __name__ == "__main__":
    sys.exit(main())
