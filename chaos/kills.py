"""SIGKILL of `edgefleet run` (a real process) at each of its first writes, then restart: no
job is created twice, no evidence is lost. The cluster runs in this process on the wall clock
(the controller process plans with it); every API request is slowed so an apply takes long
enough to be cut in the middle."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

from chaos.fleet import ChaosFleet, chaos_fleet, wait_until
from reconciler.sim.apiserver.errors import ApiError

JOBS = "imageprepulljobs"
REPO_ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _start(fleet: ChaosFleet, run: int, port: int) -> subprocess.Popen[bytes]:
    command = [
        sys.executable, "-m", "reconciler", "run", "--repo", fleet.repo.url,
        "--kubeconfig", str(fleet.kubeconfig), "--listen", f"127.0.0.1:{port}",
        "--interval", "1h", "--resync", "1h", "--log-format", "json",
        "--cache-dir", str(fleet.tmp / f"cache-{run}"),
        "--lease-duration", "3500ms", "--renew-deadline", "1500ms", "--retry-period", "200ms",
    ]
    with (fleet.tmp / f"run-{run}.log").open("wb") as log:
        return subprocess.Popen(command, cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT,
                                env={**os.environ, "PYTHONWARNINGS": "ignore"})


def _ready(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as response:
            return int(response.status) == 200
    except (urllib.error.URLError, OSError):
        return False


def _end(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    if process.poll() is None:
        process.send_signal(sig)
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)


def sigkill_run(tmp: Path, *, nodes: int, kills: int, timeout: float, seed: int = 9) -> dict[str, float]:
    """Kill the controller at its 1st, 2nd, ... `kills`-th write (each restart resumes), then
    let a last one run to its first successful cycle and quiet down."""
    with chaos_fleet(tmp, nodes=nodes, speed=1.0, seed=seed) as fleet:
        server = fleet.cluster.server
        assert server is not None
        fleet.cluster.faults.latency = 0.1  # an apply of a few dozen writes takes seconds
        done = 0
        for run in range(1, kills + 1):
            target = fleet.ledger.writes + 1
            process = _start(fleet, run, _free_port())
            try:
                hit = wait_until(lambda t=target: fleet.ledger.writes >= t, timeout, interval=0.01)
            finally:
                _end(process, signal.SIGKILL)
            if not hit:
                break  # nothing left to write: the fleet is done before `kills` kills
            done += 1
            with contextlib.suppress(ApiError):  # the next run need not wait out the dead one's Lease
                fleet.cluster.store.delete("coordination.k8s.io", "leases", "edgefleet", namespace="default")
        port = _free_port()
        last = _start(fleet, kills + 1, port)
        try:
            ready = wait_until(lambda: _ready(port), timeout, interval=0.2)
            quiet = _quiet(fleet, seconds=3.0, timeout=timeout)
        finally:
            _end(last, signal.SIGTERM)
        fleet.cluster.faults.reset()
        creates = server.counts.creates_of(JOBS)
        _, _, duplicates, wrongful = fleet.ledger.snapshot()
    return {
        "sigkill: kills at a write": float(done),
        "sigkill: writes in all": float(fleet.ledger.writes),
        "sigkill: duplicate jobs": float(duplicates),
        "sigkill: job created twice (409)": float(sum(n - 1 for n in creates.values() if n > 1)),
        "sigkill: evidence lost": float(len(fleet.ledger.evidence_lost)),
        "sigkill: wrongful deletions": float(wrongful),
        "sigkill: last run did not settle": 0.0 if ready and quiet else 1.0,
    }


def _quiet(fleet: ChaosFleet, *, seconds: float, timeout: float) -> bool:
    """True once no write happened for `seconds` (within `timeout`)."""
    seen = [fleet.ledger.writes, 0]

    def still() -> bool:
        if fleet.ledger.writes != seen[0]:
            seen[0], seen[1] = fleet.ledger.writes, 0
            return False
        seen[1] += 1
        return seen[1] * 0.5 >= seconds

    return wait_until(still, timeout, interval=0.5)
