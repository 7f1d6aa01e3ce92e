"""`python -m bench.cache` at a tiny size: idle cycles reuse the plan and the emulator counts no
request and no write during them (the time ratio is printed, not judged here)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_cache_bench_reports_an_idle_cycle_without_requests_or_writes() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench.cache", "--nodes", "60", "--repeat", "2", "--json"],
        cwd=REPO_ROOT, capture_output=True, text=True, check=False, timeout=180)
    assert done.returncode == 0, done.stderr
    table, row_json = done.stdout.strip().splitlines()[:3], done.stdout.strip().splitlines()[-1]
    assert "Idle / relist (<= 5 %)" in table[0]
    row = orjson.loads(row_json)
    assert row["nodes"] == 60 and row["jobs"] > 0
    assert (row["plansMade"], row["plansReused"]) == (1, 2)
    assert (row["idleRequests"], row["cachedWrites"]) == (0, 0)
    assert row["relistRequests"] > 0  # the counter counts: the relist cycle lists
    for field in ("relistCycleSeconds", "idleCycleSeconds", "idleRatio", "planningRatio", "cacheMemoryRatio"):
        assert row[field] > 0, field
