"""`edgefleet snapshot` and `plan --snapshot` against the embedded cluster over HTTP: the plan
from the file is the live plan, byte for byte; the file is small, dated and refused clearly
when it is not a snapshot."""

from __future__ import annotations

import gzip
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner, Result

from reconciler.cli import app
from reconciler.observed.snapshot import decode_snapshot
from reconciler.sim.clock import ManualClock
from reconciler.sim.cluster import EmbeddedCluster
from reconciler.sim.kubeedge.fleetgen import FleetOptions
from tests.e2e.conftest import REPO_ROOT

EXAMPLES = REPO_ROOT / "fleet-examples"
PLAN = ("plan", "--repo", str(EXAMPLES))
KUBECTL = Path(sys.executable).parent / "kubectl"
SECRETS = ("kubeedge/registry-cred", "vision/model-pull", "vision/pull-cred", "toll/pull-cred")


@pytest.fixture(params=["1.21", "1.16"])
def live(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[EmbeddedCluster, Path]]:
    options = FleetOptions(nodes=40, offline=0.1, flapping=0, silent=0, slow=0)
    start = datetime.now(UTC).replace(microsecond=0)
    with EmbeddedCluster(nodes=40, kubeedge=request.param, clock=ManualClock(start), seed=3,
                         fleet=options) as cluster:
        for secret in SECRETS:
            cluster.add_pull_secret(secret)
        yield cluster, cluster.write_kubeconfig(tmp_path / "kubeconfig")



def take(kubeconfig: Path, out: Path) -> Result:
    return CliRunner().invoke(app, ["snapshot", "--kubeconfig", str(kubeconfig), "-o", str(out)])


def test_plan_from_a_snapshot_is_the_live_plan_byte_for_byte(live: tuple[EmbeddedCluster, Path],
                                                              tmp_path: Path) -> None:
    cluster, kubeconfig = live
    # Jobs in flight and inventory records, so the snapshot must carry all three kinds.
    sync = CliRunner().invoke(app, ["sync", "--repo", str(EXAMPLES), "--kubeconfig", str(kubeconfig),
                                    "--install-crds"])
    assert sync.exit_code in (0, 2), sync.output
    cluster.advance(30)
    out = tmp_path / "fleet-snapshot.json.gz"
    taken = CliRunner().invoke(app, ["snapshot", "--kubeconfig", str(kubeconfig), "--out", str(out)])
    assert taken.exit_code == 0, taken.output
    listed = subprocess.run([str(KUBECTL), "--kubeconfig", str(kubeconfig), "get", "nodes", "-o", "name"],
                            capture_output=True, check=True, text=True, timeout=60).stdout.split()
    assert f"snapshot {out}: {len(listed)} nodes, 7 jobs" in taken.stderr
    snapshot = decode_snapshot(out.read_bytes())
    assert sorted(f"node/{n.name}" for n in snapshot.facts.nodes) == sorted(listed)
    assert snapshot.facts.inventory_served and len(snapshot.facts.jobs) == 7
    assert snapshot.facts.job_api_version == f"operations.kubeedge.io/{cluster.job_api_version}"

    for fmt in ("json", "markdown"):
        from_file = CliRunner().invoke(app, [*PLAN, "-o", fmt, "--snapshot", str(out)])
        from_cluster = CliRunner().invoke(app, [*PLAN, "-o", fmt,
                                                "--kubeconfig", str(kubeconfig)])
        assert from_file.exit_code == from_cluster.exit_code, from_file.output
        assert from_file.stdout == from_cluster.stdout
    assert orjson.loads(from_cluster_json(kubeconfig))["summary"]["pairsInFlight"] > 0


def from_cluster_json(kubeconfig: Path) -> str:
    run = CliRunner().invoke(app, [*PLAN, "-o", "json", "--kubeconfig", str(kubeconfig)])
    return run.stdout


def test_a_snapshot_keeps_only_what_planning_reads(live: tuple[EmbeddedCluster, Path],
                                                   tmp_path: Path) -> None:
    _, kubeconfig = live
    out = tmp_path / "snap.json.gz"
    assert take(kubeconfig, out).exit_code == 0
    document = orjson.loads(gzip.decompress(out.read_bytes()))
    node = document["nodes"]["items"][0]
    assert set(node) <= {"name", "labels", "created", "ready", "images", "reported"}
    assert {"name", "labels", "created"} <= set(node)
    names = document["imageNames"]  # each name once; nodes hold indices into it
    assert len(names) == len(set(names)) and all(0 <= i < len(names) for i in node.get("images", ()))
    assert document["kind"] == "FleetSnapshot" and document["takenAt"].endswith("Z")


def test_an_old_snapshot_warns_and_a_wrong_file_is_one_line(live: tuple[EmbeddedCluster, Path],
                                                             tmp_path: Path) -> None:
    _, kubeconfig = live
    out = tmp_path / "snap.json.gz"
    assert take(kubeconfig, out).exit_code == 0
    document = orjson.loads(gzip.decompress(out.read_bytes()))
    document["takenAt"] = (datetime.now(UTC) - timedelta(hours=30)).isoformat().replace("+00:00", "Z")
    old = tmp_path / "old.json.gz"
    old.write_bytes(gzip.compress(orjson.dumps(document)))
    stale = CliRunner().invoke(app, [*PLAN, "--snapshot", str(old)])
    assert stale.exit_code == 2, stale.output
    assert f"warning: --snapshot {old} was taken 30h00m ago" in stale.stderr
    fresh = CliRunner().invoke(app, [*PLAN, "--snapshot", str(old), "--max-age", "2d"])
    assert "warning: --snapshot" not in fresh.stderr

    nodes_json = tmp_path / "nodes.json"
    nodes_json.write_bytes(b'{"apiVersion": "v1", "kind": "List", "items": []}')
    wrong = CliRunner().invoke(app, [*PLAN, "--snapshot", str(nodes_json)])
    assert wrong.exit_code == 1
    assert wrong.stderr.count("\n") == 1
    expected = f"error: --snapshot {nodes_json}: not an edgefleet.io/v1alpha2 FleetSnapshot"
    assert wrong.stderr.startswith(expected)
    both = CliRunner().invoke(app, [*PLAN, "--snapshot", str(out),
                                    "--kubeconfig", str(kubeconfig)])
    assert both.exit_code == 1 and "not both" not in both.stderr and "use one of --snapshot" in both.stderr


def test_snapshot_of_an_unreachable_cluster_writes_nothing(live: tuple[EmbeddedCluster, Path],
                                                           tmp_path: Path) -> None:
    _, kubeconfig = live
    out = tmp_path / "snap.json.gz"
    run = CliRunner().invoke(app, ["snapshot", "--kubeconfig", str(kubeconfig), "--context", "nowhere",
                                   "-o", str(out)])
    assert run.exit_code == 1 and run.stderr.count("\n") == 1
    assert not out.exists() and not list(tmp_path.glob("*.partial"))


def test_sync_dry_run_from_a_snapshot_says_what_the_live_dry_run_says(
        live: tuple[EmbeddedCluster, Path], tmp_path: Path) -> None:
    cluster, kubeconfig = live
    out = tmp_path / "snap.json.gz"
    assert take(kubeconfig, out).exit_code == 0
    sync = ("sync", "--repo", str(EXAMPLES), "--dry-run")
    from_file = CliRunner().invoke(app, [*sync, "--snapshot", str(out)])
    from_cluster = CliRunner().invoke(app, [*sync, "--kubeconfig", str(kubeconfig)])
    assert from_file.exit_code == from_cluster.exit_code == 0, from_file.output
    assert from_file.stdout == from_cluster.stdout and ": would write " in from_file.stdout
    assert cluster.store.list("operations.kubeedge.io", "imageprepulljobs",
                              version=cluster.job_api_version)[0] == []  # nothing was written

    refused = CliRunner().invoke(app, ["sync", "--repo", str(EXAMPLES), "--snapshot", str(out)])
    assert refused.exit_code == 1
    assert refused.stderr == "error: --snapshot needs --dry-run: a snapshot is read, never written to\n"
