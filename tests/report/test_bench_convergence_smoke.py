"""`python -m bench.convergence` at a tiny size: a simulated fleet converges the example commit
and the run reports its time against the ideal bound (the ratios are printed, not judged)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_convergence_bench_converges_and_reports_its_ratio_to_the_ideal_bound() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench.convergence", "--nodes", "30", "--speed", "200",
         "--timeout", "240", "--json"],
        cwd=REPO_ROOT, capture_output=True, text=True, check=False, timeout=400)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert "Ideal bound: sum over jobs" in lines[0]
    row = orjson.loads(lines[-1])
    assert row["converged"] is True and row["nodes"] == 30 and row["jobs"] > 0
    # The bound comes from the jobs the run created and the nodes' own link speeds and images.
    assert row["idealBoundSimSeconds"] >= row["slowestJobSimSeconds"] > 0
    assert row["convergedSimSeconds"] > 0
    ratio = row["convergedSimSeconds"] / row["idealBoundSimSeconds"]
    assert abs(row["ratioToIdealBound"] - ratio) <= 0.01 * ratio + 0.001
