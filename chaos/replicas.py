"""Two or three `edgefleet run` processes on one cluster; the leader is SIGKILLed while it
writes, then the next one: each takeover must come within the Lease duration (plus one retry
period, the standby's poll), and no job may be created twice."""

from __future__ import annotations

import signal
import time
import urllib.error
import urllib.request
from pathlib import Path

from chaos.fleet import ChaosFleet, chaos_fleet, wait_until
from chaos.kills import JOBS, _end, _free_port, _quiet, _start

LEASE_SECONDS, RETRY_SECONDS = 3.5, 0.2  # the timings _start passes


def _leads(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as response:
            text = response.read().decode()
    except (urllib.error.URLError, OSError):
        return False
    return any(line.startswith("edgefleet_leader ") and float(line.split()[1]) == 1
               for line in text.splitlines())


def _holder(fleet: ChaosFleet) -> str:
    try:
        lease = fleet.cluster.store.get("coordination.k8s.io", "leases", "edgefleet", namespace="default")
    except Exception:  # not created yet
        return ""
    return str((lease.get("spec") or {}).get("holderIdentity") or "")


def replicas_run(tmp: Path, *, nodes: int, replicas: int, timeout: float, seed: int = 11) -> dict[str, float]:
    """Start `replicas` processes, kill the leader at a write `replicas - 1` times in a row."""
    with chaos_fleet(tmp, nodes=nodes, speed=1.0, seed=seed) as fleet:
        server = fleet.cluster.server
        assert server is not None
        fleet.cluster.faults.latency = 0.1
        ports = [_free_port() for _ in range(replicas)]
        processes = {port: _start(fleet, 100 + i, port) for i, port in enumerate(ports)}
        takeovers: list[float] = []
        try:
            for _ in range(replicas - 1):
                target = fleet.ledger.writes + 1
                if not wait_until(lambda t=target: fleet.ledger.writes >= t, timeout, interval=0.01):
                    break
                leader = next((p for p in processes if _leads(p)), None)
                if leader is None:
                    break
                before = _holder(fleet)
                _end(processes.pop(leader), signal.SIGKILL)
                killed = time.monotonic()
                if not wait_until(lambda b=before: _holder(fleet) not in ("", b), timeout, interval=0.05):
                    break
                takeovers.append(time.monotonic() - killed)
            quiet = _quiet(fleet, seconds=3.0, timeout=timeout)
        finally:
            for process in processes.values():
                _end(process, signal.SIGTERM)
        fleet.cluster.faults.reset()
        creates = server.counts.creates_of(JOBS)
        _, _, duplicates, wrongful = fleet.ledger.snapshot()
    tag = f"{replicas} replicas"
    bound = LEASE_SECONDS + RETRY_SECONDS
    return {
        f"{tag}: leaders killed at a write": float(len(takeovers)),
        f"{tag}: slowest takeover s (lease {LEASE_SECONDS:g} s)": round(max(takeovers, default=0.0), 2),
        f"{tag}: takeover missing or beyond lease + retry, not converged": float(
            (replicas - 1 - len(takeovers)) + sum(t > bound for t in takeovers) + (0 if quiet else 1)),
        f"{tag}: job created twice (409)": float(sum(n - 1 for n in creates.values() if n > 1)),
        f"{tag}: duplicate jobs": float(duplicates),
        f"{tag}: evidence lost": float(len(fleet.ledger.evidence_lost)),
        f"{tag}: wrongful deletions": float(wrongful),
    }
