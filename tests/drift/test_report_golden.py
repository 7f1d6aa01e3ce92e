"""The report's bytes are fixed: a seeded, varied set of pairs renders to checked-in JSON and
Markdown (tests/drift/golden/), so a faster aggregation cannot change what a reader sees.

The pairs mix ages (settling and drifting, many sharing the listing's cut-off time), reasons,
details, groups, sites and nodes outside the fleet; the listing cap is small so the tie-break
on (since, node, image) decides which rows are listed.
"""

from __future__ import annotations

import random
from datetime import timedelta
from pathlib import Path

from reconciler.drift.reasons import Reason
from reconciler.drift.render_json import render_report_json
from reconciler.drift.render_markdown import render_report_markdown
from reconciler.drift.report import DriftPair, DriftReport, DriftSettings, GroupTotals, PairDetail

from .conftest import NOW, ZONE, nodes, pair, report

GOLDEN = Path(__file__).parent / "golden"
AGES = (timedelta(minutes=10), timedelta(hours=2), timedelta(hours=7), timedelta(days=2),
        timedelta(days=40))


def seeded_pairs(seed: int = 9) -> list[DriftPair]:
    """About 2,400 pairs on 240 nodes (20 of them outside the fleet), sorted by (node, image)."""
    rng = random.Random(seed)
    reasons = list(Reason)
    pairs = []
    for n in range(240):
        node = f"edge-{n:03d}"
        for image in sorted(rng.sample([f"img-{i:02d}:1" for i in range(30)], rng.randint(0, 20))):
            reason = rng.choice(reasons)
            detail = None
            if reason in (Reason.FAILED, Reason.BACKING_OFF):
                detail = PairDetail(attempt=rng.randint(1, 5), attempt_limit=5,
                                    next_retry_at=NOW + timedelta(minutes=5) if reason is Reason.BACKING_OFF
                                    else None, last_error=rng.choice([None, "pull: 404 not found"]))
            # Most pairs share one age (one report saw them go missing): ties at the cut-off.
            age = AGES[4] if rng.random() < 0.7 else rng.choice(AGES)
            pairs.append(pair(node, image, reason, group=rng.choice(["shops", "lines", "kiosks"]),
                              age=age, detail=detail))
    return pairs


def golden_report() -> DriftReport:
    """The report the golden files hold."""
    groups = [GroupTotals("shops", 9000, 8000), GroupTotals("lines", 7000, 6500),
              GroupTotals("kiosks", 5000, 4000, suspended=True), GroupTotals("idle", 100, 100)]
    return report(seeded_pairs(), fleet=nodes(220, sites=7), groups=groups,
                  settings=DriftSettings(site_label=ZONE, min_age_seconds=3600, max_rows=40))


def test_json_is_byte_identical_to_the_golden_file() -> None:
    assert render_report_json(golden_report()) == (GOLDEN / "report.json").read_bytes()


def test_markdown_is_byte_identical_to_the_golden_file() -> None:
    text = (GOLDEN / "report.md").read_text(encoding="utf-8")
    assert render_report_markdown(golden_report()) == text


def test_every_drifting_pair_is_counted_and_the_cap_is_reached() -> None:
    r = golden_report()
    assert r.summary.pairs_listed == 40 < r.summary.pairs_drifting  # the cap cuts the listing
    assert sum(a.pairs for a in r.aggregates.reasons) == r.summary.pairs_drifting
    assert r.summary.pairs_settling > 0
