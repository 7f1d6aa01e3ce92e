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


def test_agent_write_bench_reports_the_ratio_and_the_fleet_rate() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench.agent_writes", "--nodes", "4", "--hours", "3", "--changes", "8",
         "--json"], cwd=REPO_ROOT, capture_output=True, text=True, check=False, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    result = orjson.loads(done.stdout)
    assert result["nodes"] == 4 and result["storeChanges"] == 4
    # A write per store change and per resync (30 min, jittered), never one per poll.
    assert 0 < result["writes"] < 4 * 3 * 60
    assert result["ratioToNaive"] == round(result["writesPerNodePerHour"] / 60, 4)
    assert "fleetWritesPerSecond" in result and "targetMet" in result
