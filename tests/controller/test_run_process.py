"""`edgefleet run` as a real process: SIGKILL in the middle of a reconcile, SIGTERM at rest."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import orjson
import pytest

from reconciler.cli.demo_git import ServedFleetRepository
from reconciler.sim.cluster import EmbeddedCluster
from tests.controller.conftest import REPO_ROOT, served_fleet, wait_until

SECRET = "process-test-secret-value"
pytestmark = pytest.mark.slow


@dataclass
class ProcessEnv:
    cluster: EmbeddedCluster
    kubeconfig: Path
    repo: ServedFleetRepository
    tmp: Path

    def jobs(self) -> list[dict[str, object]]:
        items, _, _ = self.cluster.store.list("operations.kubeedge.io", "imageprepulljobs",
                                              label_selector="app.kubernetes.io/managed-by=edgefleet")
        return items


@pytest.fixture
def process_env(tmp_path: Path) -> Iterator[ProcessEnv]:
    # Real-time clock (speed 1, starting now): the controller process plans with the wall clock.
    with served_fleet(tmp_path, speed=1, seed=9) as env:
        (tmp_path / "secret").write_text(SECRET + "\n")
        yield ProcessEnv(env.cluster, env.kubeconfig, env.repo, env.tmp)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def run_controller(env: ProcessEnv, name: str, port: int) -> subprocess.Popen[bytes]:
    command = [
        sys.executable, "-m", "reconciler", "run", "--repo", env.repo.url,
        "--kubeconfig", str(env.kubeconfig),
        "--listen", f"127.0.0.1:{port}", "--interval", "1h", "--resync", "1h", "--log-format", "json",
        "--webhook-secret-file", str(env.tmp / "secret"), "--cache-dir", str(env.tmp / f"cache-{name}"),
        "--lease-duration", "3500ms", "--renew-deadline", "1500ms", "--retry-period", "200ms",
    ]
    with (env.tmp / f"{name}.log").open("wb") as log:  # the child keeps its own descriptor
        return subprocess.Popen(command, cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT,
                                env={**os.environ, "PYTHONWARNINGS": "ignore"})


def ready(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as response:
            return int(response.status) == 200
    except (urllib.error.URLError, OSError):
        return False


def content(job: dict[str, object]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    template = job["spec"]["imagePrePullTemplate"]  # type: ignore[index]
    return tuple(sorted(template["images"])), tuple(sorted(template["nodeNames"]))


def test_sigkill_in_the_middle_of_a_reconcile_then_restart_creates_no_duplicate(
        process_env: ProcessEnv) -> None:
    process_env.cluster.faults.latency = 0.4  # every API request is slow: the apply takes seconds
    first = run_controller(process_env, "first", free_port())
    try:
        assert wait_until(lambda: len(process_env.jobs()) >= 1, 60, interval=0.02)
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait(10)
    at_kill = {job["metadata"]["name"] for job in process_env.jobs()}  # type: ignore[index]
    port = free_port()
    second = run_controller(process_env, "second", port)
    try:
        assert wait_until(lambda: ready(port), 60, interval=0.2), \
            (process_env.tmp / "second.log").read_text()
    finally:
        second.terminate()
        second.wait(20)
    jobs = process_env.jobs()
    names = {job["metadata"]["name"] for job in jobs}  # type: ignore[index]
    assert at_kill < names, "the kill happened mid-apply: the restart created the rest"
    duplicates = [c for c, n in Counter(content(job) for job in jobs).items() if n > 1]
    assert duplicates == []
    pairs = Counter((node, image) for job in jobs for image in content(job)[0] for node in content(job)[1])
    assert max(pairs.values()) == 1, "no (node, image) pair is pulled by two jobs"


def test_sigterm_releases_the_lease_and_exits_0(process_env: ProcessEnv) -> None:
    port = free_port()
    process = run_controller(process_env, "graceful", port)
    try:
        assert wait_until(lambda: ready(port), 60, interval=0.2), \
            (process_env.tmp / "graceful.log").read_text()
        process.send_signal(signal.SIGTERM)
        assert process.wait(30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
    lease = process_env.cluster.store.get("coordination.k8s.io", "leases", "edgefleet", namespace="default")
    assert lease["spec"]["holderIdentity"] == ""
    output = (process_env.tmp / "graceful.log").read_bytes()
    assert SECRET.encode() not in output
    lines = [orjson.loads(line) for line in output.splitlines() if line.startswith(b"{")]
    assert any("released Lease" in line["message"] for line in lines)
    assert all({"time", "level", "logger", "message"} <= line.keys() for line in lines)
