"""`python -m bench.registry` at a tiny size (#12): against a real docker-registry, a cold plan
asks 4 requests per distinct two-platform image, a warm one none, one after the TTL a HEAD each."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.realparts.registry import registry_available

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_bench_registry_counts_requests_per_distinct_image() -> None:
    if (reason := registry_available()) is not None:
        pytest.skip(reason)
    done = subprocess.run(
        [sys.executable, "-m", "bench.registry", "--nodes", "200", "--images", "10"],
        cwd=REPO_ROOT, capture_output=True, text=True, check=False, timeout=240,
    )
    # Not --check: its plan-time ratio is wall-clock, for `make bench`, never for a test.
    assert done.returncode == 0, done.stderr
    rows = {line.split("|")[3].strip(): line.split("|")[4].strip()
            for line in done.stdout.splitlines() if line.startswith("| 200 ")}
    assert rows == {"cold": "40", "warm": "0", "after TTL": "10"}
    assert "with the registry rules" in done.stdout and "bytes to transfer" in done.stdout
