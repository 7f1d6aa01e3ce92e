"""`python -m bench.rollout` on a small fleet: it plans without rollouts, with them, and the
daemon's second pass with the FleetRollouts the first wrote, and reports both ratios (no
timing is asserted: benchmarks measure, tests check that they measure the right thing)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_the_rollout_bench_reports_both_passes() -> None:
    run = subprocess.run([sys.executable, "-m", "bench.rollout", "--nodes", "3000", "--repeat", "1"],
                         cwd=REPO_ROOT, capture_output=True, text=True, timeout=300, check=True)
    row = next(line for line in run.stdout.splitlines() if line.startswith("| 3,000 |"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert re.fullmatch(r"[\d.]+ \([\d.]+x\)", cells[2]) and re.fullmatch(r"[\d.]+ \([\d.]+x\)", cells[3])
    jobs, wave_zero, gated = (int(c.replace(",", "")) for c in cells[4:7])
    assert 0 < wave_zero <= jobs and gated > 2000  # waves hold most nodes back in the first pass
