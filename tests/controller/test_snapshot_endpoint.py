"""`/snapshot` over real HTTP: the daemon publishes the fleet snapshot `edgefleet snapshot`
writes, CI downloads it and plans from it exactly as from the command's file."""

from __future__ import annotations

import gzip
import logging
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from prometheus_client import CollectorRegistry
from typer.testing import CliRunner

from reconciler.cli import app
from reconciler.controller.daemon import Controller
from reconciler.controller.http import ControllerHttp, WebhookSettings
from reconciler.controller.metrics import ControllerMetrics
from reconciler.controller.snapshots import SnapshotPublisher
from reconciler.controller.view import ControllerState
from reconciler.kube.session import Session
from reconciler.observed.snapshot import decode_snapshot
from reconciler.sim.clock import ManualClock
from reconciler.sim.cluster import EmbeddedCluster
from tests.controller.conftest import FLEET_EXAMPLES, PULL_SECRETS, FleetEnv, wait_until

START = datetime.now(UTC).replace(microsecond=0)  # the CLI plans at the wall clock's now


def get(url: str) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return int(response.status), dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def serve(snapshot_file: Path | None) -> ControllerHttp:
    state = ControllerState(repo="git://example/fleet.git", branch="main", path="", identity="t",
                            started_at=START)
    return ControllerHttp("127.0.0.1:0", state, ControllerMetrics(CollectorRegistry()),
                          WebhookSettings(None, lambda forge: None), snapshot_file=snapshot_file)


@pytest.fixture
def still_cluster(tmp_path: Path) -> Iterator[tuple[EmbeddedCluster, Path]]:
    """A cluster whose clock does not move: two readings of it are the same facts."""
    with EmbeddedCluster(nodes=20, kubeedge="1.21", clock=ManualClock(START), seed=4) as cluster:
        for secret in PULL_SECRETS:
            cluster.add_pull_secret(secret)
        yield cluster, cluster.write_kubeconfig(tmp_path / "kubeconfig")


def document(data: bytes) -> dict[str, Any]:
    """A snapshot's JSON without its time of reading."""
    parsed: dict[str, Any] = orjson.loads(gzip.decompress(data))
    parsed.pop("takenAt")
    return parsed


def test_snapshot_serves_what_edgefleet_snapshot_writes(still_cluster: tuple[EmbeddedCluster, Path],
                                                        tmp_path: Path) -> None:
    _, kubeconfig = still_cluster
    session = Session.from_kubeconfig(kubeconfig)
    publisher = SnapshotPublisher(session, tmp_path / "published", now=lambda: START)
    http = serve(publisher.file)
    http.start()
    try:
        code, _, body = get(f"{http.url}/snapshot")
        assert (code, body) == (503, b"no snapshot taken yet; try again shortly\n")
        assert publisher.publish()
        code, headers, downloaded = get(f"{http.url}/snapshot")
    finally:
        http.stop()
        session.close()
    assert code == 200 and headers["Content-Type"] == "application/gzip"
    assert 'filename="fleet-snapshot.json.gz"' in headers["Content-Disposition"]
    assert downloaded == publisher.file.read_bytes()
    assert decode_snapshot(downloaded).taken_at == START

    from_command = tmp_path / "fleet-snapshot.json.gz"
    taken = CliRunner().invoke(app, ["snapshot", "--kubeconfig", str(kubeconfig), "--out", str(from_command)])
    assert taken.exit_code == 0, taken.output
    assert document(downloaded) == document(from_command.read_bytes())
    saved = tmp_path / "downloaded.json.gz"
    saved.write_bytes(downloaded)
    plan = ("plan", "--repo", str(FLEET_EXAMPLES), "-o", "json", "--snapshot")
    plans = [CliRunner().invoke(app, [*plan, str(f)]) for f in (saved, from_command)]
    assert plans[0].exit_code == plans[1].exit_code == 2, plans[0].output
    assert plans[0].stdout == plans[1].stdout


def test_without_a_snapshot_dir_the_endpoint_says_how_to_enable_it() -> None:
    http = serve(None)
    http.start()
    try:
        code, _, body = get(f"{http.url}/snapshot")
    finally:
        http.stop()
    assert (code, body) == (404, b"snapshot publishing is disabled (start with --snapshot-dir)\n")


def test_a_snapshot_that_cannot_be_written_is_logged_and_not_served(
        still_cluster: tuple[EmbeddedCluster, Path], tmp_path: Path,
        caplog: pytest.LogCaptureFixture) -> None:
    _, kubeconfig = still_cluster
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("a file where the snapshot directory should be\n")
    session = Session.from_kubeconfig(kubeconfig)
    try:
        with caplog.at_level(logging.WARNING, logger="edgefleet.snapshot"):
            assert not SnapshotPublisher(session, blocked, now=lambda: START).publish()
    finally:
        session.close()
    assert "snapshot: not published" in caplog.text and "none yet" in caplog.text


def test_the_daemon_publishes_a_snapshot_at_start(start_controller: Callable[..., Controller],
                                                  fleet_env: FleetEnv) -> None:
    controller = start_controller(snapshot_dir=fleet_env.tmp / "snapshots")
    url = f"{controller.url}/snapshot"
    assert wait_until(lambda: get(url)[0] == 200, timeout=30)
    snapshot = decode_snapshot(get(url)[2])
    names = {node.name for node in snapshot.facts.nodes}
    assert set(fleet_env.cluster.edge_names()) <= names
    assert snapshot.facts.job_api_version == f"operations.kubeedge.io/{fleet_env.cluster.job_api_version}"
