"""Two or three `edgefleet run --shards N` processes (N = replicas) on one cluster; the replica
that wrote last is SIGKILLed mid-cycle, then the next one: each dead replica's shards must be
taken within the Lease duration (plus one retry period), and no group or node may be written
by a replica that does not hold its shard.

Who wrote what comes from the embedded API server's request log (each replica names itself in
its User-Agent); who held each shard Lease is sampled from the store every few milliseconds,
next to the log's length. A write counts as a double write when the writer held the shard
neither at the sample before it nor at the sample after it (so a write racing a renewal or a
takeover in between two samples is not counted against it, and a refused Lease write, which
the log records too, does not confuse the count).
"""

from __future__ import annotations

import bisect
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from chaos.fleet import ChaosFleet, chaos_fleet, wait_until
from chaos.kills import JOBS, REPO_ROOT, _end, _free_port, _quiet
from reconciler.controller.sharding import shard_lease_name, shard_of
from reconciler.planner.model import GROUP_LABEL

LEASE_SECONDS, RETRY_SECONDS = 3.5, 0.2  # the timings _start passes
WRITES = frozenset({"create", "update", "patch", "delete"})


def _start(fleet: ChaosFleet, identity: str, port: int, shards: int) -> subprocess.Popen[bytes]:
    command = [
        sys.executable, "-m", "reconciler", "run", "--repo", fleet.repo.url,
        "--kubeconfig", str(fleet.kubeconfig), "--listen", f"127.0.0.1:{port}",
        "--interval", "1h", "--resync", "1h", "--log-format", "json",
        "--cache-dir", str(fleet.tmp / f"cache-{identity}"), "--identity", identity,
        "--shards", str(shards),
        "--lease-duration", "3500ms", "--renew-deadline", "1500ms", "--retry-period", "200ms",
    ]
    with (fleet.tmp / f"{identity}.log").open("wb") as log:
        return subprocess.Popen(command, cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT,
                                env={**os.environ, "PYTHONWARNINGS": "ignore"})


class LeaseSampler:
    """Samples (request log length, holder of each shard Lease) and the group of every
    managed job seen, in a thread, until `stop()`."""

    def __init__(self, fleet: ChaosFleet, shards: int) -> None:
        self._fleet, self._shards = fleet, shards
        self.samples: list[tuple[int, tuple[str, ...]]] = []
        self.group_of: dict[str, str] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="lease-sampler", daemon=True)

    def holders(self) -> tuple[str, ...]:
        store = self._fleet.cluster.store
        names = []
        for shard in range(self._shards):
            try:
                lease = store.get("coordination.k8s.io", "leases", shard_lease_name("edgefleet", shard),
                                  namespace="default")
            except Exception:  # not created yet
                names.append("")
                continue
            names.append(str((lease.get("spec") or {}).get("holderIdentity") or ""))
        return tuple(names)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        server = self._fleet.cluster.server
        assert server is not None
        tick = 0
        while not self._stop.is_set():
            before = len(server.requests)
            holders = self.holders()
            self.samples.append((before, holders))
            if tick % 10 == 0:
                self._jobs()
            tick += 1
            self._stop.wait(0.01)
        self._jobs()

    def _jobs(self) -> None:
        items, _, _ = self._fleet.cluster.store.list("operations.kubeedge.io", JOBS)
        for job in items:
            labels = job["metadata"].get("labels") or {}
            if GROUP_LABEL in labels:
                self.group_of[job["metadata"]["name"]] = labels[GROUP_LABEL]


def double_writes(fleet: ChaosFleet, sampler: LeaseSampler, shards: int) -> tuple[int, int]:
    """(writes checked, writes by a replica that held the shard neither just before nor after)."""
    server = fleet.cluster.server
    assert server is not None
    marks = [n for n, _ in sampler.samples]
    checked = bad = 0
    for index, request in enumerate(server.requests.requests()):
        if request.verb not in WRITES or not request.agent.startswith("edgefleet/"):
            continue
        name = request.created or request.name
        if request.resource == JOBS and name in sampler.group_of:
            shard = shard_of(sampler.group_of[name], shards)
        elif request.resource == "edgenodeinventories" and name:
            shard = shard_of(name, shards)
        else:
            continue
        writer = request.agent.removeprefix("edgefleet/")
        # samples[k] was taken when the log held marks[k] requests: request `index` came after
        # the samples with mark <= index and before those with mark > index.
        after = bisect.bisect_right(marks, index)
        held_before = after > 0 and sampler.samples[after - 1][1][shard] == writer
        held_after = after < len(marks) and sampler.samples[after][1][shard] == writer
        checked += 1
        if not (held_before or held_after):
            bad += 1
            around = [h[shard] for _, h in sampler.samples[max(after - 2, 0):after + 2]]
            print(f"chaos: double write: {request.verb} {request.resource} {name} by {writer} "
                  f"(shard {shard}; holders around it: {around})", file=sys.stderr)
    return checked, bad


def shards_run(tmp: Path, *, nodes: int, replicas: int, timeout: float, seed: int = 13) -> dict[str, float]:
    """Start `replicas` processes with `--shards replicas`; kill the last writer `replicas - 1`
    times in a row, each time measuring how long until its shards are held by a live peer."""
    shards = replicas
    with chaos_fleet(tmp, nodes=nodes, speed=1.0, seed=seed) as fleet:
        server = fleet.cluster.server
        assert server is not None
        fleet.cluster.faults.latency = 0.1
        server.requests.limit = 10_000_000  # indices into the log must not shift during the run
        sampler = LeaseSampler(fleet, shards)
        sampler.start()
        names = [f"shard-replica-{i}" for i in range(replicas)]
        processes = {name: _start(fleet, name, _free_port(), shards) for name in names}
        takeovers: list[float] = []
        try:
            def spread() -> bool:  # every shard held by a live replica, each holding one
                holders = sampler.holders()
                return all(h in processes for h in holders) and len(set(holders)) == len(processes)

            wait_until(spread, timeout, interval=0.05)
            for _ in range(replicas - 1):
                target = fleet.ledger.writes + 1
                if not wait_until(lambda t=target: fleet.ledger.writes >= t, timeout, interval=0.01):
                    break
                victim = _last_writer(fleet, set(processes))
                if victim is None:
                    break
                _end(processes.pop(victim), signal.SIGKILL)
                killed = time.monotonic()
                orphans = [s for s, h in enumerate(sampler.holders()) if h == victim]

                def taken(orphans: list[int] = orphans) -> bool:
                    holders = sampler.holders()
                    return all(holders[s] in processes for s in orphans)

                if not wait_until(taken, timeout, interval=0.02):
                    break
                takeovers.append(time.monotonic() - killed)
            quiet = _quiet(fleet, seconds=3.0, timeout=timeout)
        finally:
            for process in processes.values():
                _end(process, signal.SIGTERM)
            sampler.stop()
        fleet.cluster.faults.reset()
        creates = server.counts.creates_of(JOBS)
        _, _, duplicates, wrongful = fleet.ledger.snapshot()
        checked, doubled = double_writes(fleet, sampler, shards)
    tag = f"{replicas} replicas --shards {shards}"
    bound = LEASE_SECONDS + RETRY_SECONDS
    return {
        f"{tag}: shard holders killed mid-cycle": float(len(takeovers)),
        f"{tag}: slowest takeover s (lease {LEASE_SECONDS:g} s)": round(max(takeovers, default=0.0), 2),
        f"{tag}: writes checked against the shard holder": float(checked),
        f"{tag}: takeover missing or beyond lease + retry, not converged": float(
            (replicas - 1 - len(takeovers)) + sum(t > bound for t in takeovers) + (0 if quiet else 1)),
        f"{tag}: double writes": float(doubled),
        f"{tag}: job created twice (409)": float(sum(n - 1 for n in creates.values() if n > 1)),
        f"{tag}: duplicate jobs": float(duplicates),
        f"{tag}: evidence lost": float(len(fleet.ledger.evidence_lost)),
        f"{tag}: wrongful deletions": float(wrongful),
    }


def _last_writer(fleet: ChaosFleet, alive: set[str]) -> str | None:
    """The live replica that sent the most recent job or inventory write."""
    server = fleet.cluster.server
    assert server is not None
    for request in reversed(server.requests.requests()):
        writer = request.agent.removeprefix("edgefleet/")
        if request.verb in WRITES and request.resource in (JOBS, "edgenodeinventories") and writer in alive:
            return writer
    return None
