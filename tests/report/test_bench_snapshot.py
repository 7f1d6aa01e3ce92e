"""`python -m bench.snapshot` (run by `make bench`) at a tiny size: it writes and reads a real
snapshot and reports its ratios (the values are not judged here: timings belong to the bench)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_bench_snapshot_reports_size_write_and_read_ratios(tmp_path: Path) -> None:
    out = tmp_path / "snapshot.json"
    done = subprocess.run([sys.executable, "-m", "bench.snapshot", "--nodes", "300", "--repeat", "1",
                           "--out", str(out)], cwd=REPO_ROOT, capture_output=True, text=True,
                          check=False, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "read / plan --nodes decode" in done.stdout
    (row,) = orjson.loads(out.read_bytes())["results"]
    assert row["nodes"] == 300
    assert 0 < row["snapshotBytes"] < row["nodeListBytes"]
    for field in ("sizeRatio", "writeRatio", "readRatio", "nodesRatio", "readVsNodesRatio", "targetsMet",
                  "readV1alpha1VsNodesRatio"):
        assert field in row, field


def test_bench_snapshot_refuses_no_nodes() -> None:
    done = subprocess.run([sys.executable, "-m", "bench.snapshot", "--nodes", "0"], cwd=REPO_ROOT,
                          capture_output=True, text=True, check=False, timeout=60)
    assert done.returncode == 2 and "--nodes must be at least 1" in done.stderr
