"""`make bench` at a tiny size: it runs end to end and reports its ratios (values not judged)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_bench_reports_time_and_memory_ratios_and_job_counts(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--sizes", "200", "--groups", "4", "--out", str(out)],
        cwd=REPO_ROOT, capture_output=True, text=True, check=False, timeout=90,
    )
    assert done.returncode == 0, done.stderr
    assert "Time ratio" in done.stdout and "Memory ratio" in done.stdout
    (row,) = orjson.loads(out.read_bytes())["results"]
    assert row["nodes"] == 200
    for field in ("timeRatio", "memoryRatio", "decodeSeconds", "planSeconds", "snapshotBytes",
                  "planPeakBytes", "jobs", "naiveJobs", "targetsMet"):
        assert field in row, field
    assert row["jobs"] > 0 and row["naiveJobs"] >= row["jobs"]


def test_bench_refuses_a_bad_size_list() -> None:
    done = subprocess.run([sys.executable, "-m", "bench", "--sizes", "lots"], cwd=REPO_ROOT,
                          capture_output=True, text=True, check=False, timeout=30)
    assert done.returncode == 2
    assert "--sizes takes node counts" in done.stderr
