"""`python -m bench.convergence [--nodes 2000] [--speed 20]`: how long edgefleet takes to
converge a commit on a simulated fleet, against the ideal bound (issue 14), as ratios.

The embedded cluster of `make chaos` (chaos/fleet.py: simulated KubeEdge 1.21 edge nodes, no
offline, flapping, silent or slow node; the example fleet of fleet-examples/ served by git) and
an in-process `edgefleet run` with watch caches, on the cluster's fast clock (`--speed`
simulated seconds per real second). Measured: simulated seconds from the controller's start
to the end of its first cycle that finds nothing left to do (chaos.fleet.converged: a pair
backing off after a failed pull waits for its time and is not awaited).

The bound is computed after the run from every managed job created and the simulated nodes'
own data (reconciler/sim/kubeedge/edge.py: a pull takes image bytes / the node's link speed):
- a node's pull time in a job = the bytes of the job's images it did not hold at the start /
  its link speed (bytes per second);
- a job's ideal = its waves (ceil(nodes / concurrency): KubeEdge runs `concurrency` nodes at a
  time) x its pull time (the mean over its nodes);
- the ideal bound (issue 14) = the sum over jobs. Jobs run side by side, so the slowest job
  alone (the critical path) is reported too: a fleet cannot converge before it.
The controller's own CPU time counts in simulated time multiplied by `--speed`, so a faster
clock makes edgefleet look slower: the run prints the speed with the ratios.
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from chaos.fleet import chaos_fleet, converged, wait_until
from reconciler.controller.leader import LeaderTiming
from reconciler.sim.cluster import EmbeddedCluster

#: One replica: a long Lease, so a write slowed by the one process that serves the API, runs
#: the simulation and the controller is not cut off by the fence's per-request timeout.
LEASE = LeaderTiming(lease_duration=120.0, renew_deadline=80.0, retry_period=5.0)


@dataclass(frozen=True, slots=True)
class JobShape:
    """What the bound needs of one created job."""

    nodes: tuple[str, ...]
    images: tuple[str, ...]
    concurrency: int


@dataclass
class JobRecorder:
    """Subscribed to the store: every managed ImagePrePullJob created, by name (finished jobs
    are collected after their TTL, so the store alone would forget them)."""

    jobs: dict[str, JobShape] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, kind: str, resource: Any, obj: dict[str, Any]) -> None:
        if kind != "ADDED" or getattr(resource, "plural", "") != "imageprepulljobs":
            return
        metadata = obj.get("metadata") or {}
        if (metadata.get("labels") or {}).get("app.kubernetes.io/managed-by") != "edgefleet":
            return
        template = (obj.get("spec") or {}).get("imagePrePullTemplate") or {}
        shape = JobShape(tuple(template.get("nodeNames") or ()), tuple(template.get("images") or ()),
                         max(int(template.get("concurrency") or 1), 1))
        with self._lock:
            self.jobs[str(metadata.get("name", ""))] = shape


def held_at_start(cluster: EmbeddedCluster) -> dict[str, tuple[float, frozenset[str]]]:
    """Per edge node: (link bytes per second, the image references it holds)."""
    with cluster.simulation.lock:
        return {name: (edge.link_bps, frozenset(edge.images)) for name, edge in cluster.fleet.edges.items()}


def job_ideal(job: JobShape, held: dict[str, tuple[float, frozenset[str]]],
              sizes: dict[str, int]) -> float:
    """Simulated seconds a job needs at best: waves x mean pull time of its nodes."""
    pulls = []
    for node in job.nodes:
        link, holds = held.get(node, (0.0, frozenset()))
        wanted = sum(sizes.get(image, 0) for image in job.images if image not in holds)
        pulls.append(wanted / link if link > 0 else 0.0)
    if not pulls:
        return 0.0
    return math.ceil(len(job.nodes) / job.concurrency) * (sum(pulls) / len(pulls))


def measure(nodes: int, speed: float, workdir: Path, *, seed: int, timeout: float) -> dict[str, Any]:
    """One results row: converge fleet-examples on `nodes` simulated nodes."""
    recorder = JobRecorder()
    real_started = time.monotonic()
    with chaos_fleet(workdir, nodes=nodes, speed=speed, seed=seed) as fleet:
        cluster = fleet.cluster
        unsubscribe = cluster.store.subscribe(recorder)
        held = held_at_start(cluster)
        started = cluster.clock.now()
        controller, session = fleet.controller("bench-convergence", clock_speed=speed, leader=LEASE)
        try:
            done = wait_until(lambda: converged(controller), timeout, interval=0.2)
            last = controller.state.snapshot().last
            cycles = controller.state.snapshot().cycles
            reused = controller.plans.reused
        finally:
            controller.stop()
            session.close()
            unsubscribe()
        sizes: dict[str, int] = {}
        for job in recorder.jobs.values():
            for image in job.images:
                found = cluster.catalogue.lookup(image)
                sizes[image] = found.size if found is not None else 0
    took = (last.finished_at - started).total_seconds() if done and last is not None else float("nan")
    ideals = [job_ideal(job, held, sizes) for job in recorder.jobs.values()]
    bound, critical = sum(ideals), max(ideals, default=0.0)
    return {
        "nodes": nodes, "speed": speed, "converged": done, "jobs": len(recorder.jobs),
        "cycles": cycles, "plansReused": reused,
        "convergedSimSeconds": round(took, 1), "idealBoundSimSeconds": round(bound, 1),
        "slowestJobSimSeconds": round(critical, 1),
        "ratioToIdealBound": round(took / bound, 3) if bound else None,
        "ratioToSlowestJob": round(took / critical, 3) if critical else None,
        "realSeconds": round(time.monotonic() - real_started, 1),
    }


def main(argv: list[str] | None = None) -> int:
    """Run once and print one table row (and JSON with --json); 1 when it did not converge."""
    parser = argparse.ArgumentParser(prog="python -m bench.convergence", description=__doc__.split("\n")[0])
    # 2,000 by default: about 5 minutes here; 10,000 did not converge within 25 (docs/controller.md).
    parser.add_argument("--nodes", type=int, default=2_000)
    parser.add_argument("--speed", type=float, default=20.0, help="simulated seconds per real second")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--timeout", type=float, default=600.0, help="real seconds to wait for convergence")
    parser.add_argument("--json", action="store_true", help="also print the results row as JSON")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="edgefleet-bench-convergence-") as workdir:
        print(f"bench.convergence: {args.nodes:,} nodes at {args.speed:g}x ...", file=sys.stderr, flush=True)
        r = measure(args.nodes, args.speed, Path(workdir), seed=args.seed, timeout=args.timeout)
    print("| Nodes | Clock | Jobs | Converged in (sim s) | Ideal bound: sum over jobs (sim s) | "
          "Converged / bound | Slowest job (sim s) | Converged / slowest job | Cycles (plans reused) | "
          "Real s |")
    print("|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
    print(f"| {r['nodes']:,} | {r['speed']:g}x | {r['jobs']} | {r['convergedSimSeconds']:,} | "
          f"{r['idealBoundSimSeconds']:,} | {r['ratioToIdealBound']} | {r['slowestJobSimSeconds']:,} | "
          f"{r['ratioToSlowestJob']} | {r['cycles']} ({r['plansReused']}) | {r['realSeconds']} |")
    if args.json:
        print(orjson.dumps(r).decode())
    if not r["converged"]:
        print(f"did not converge within {args.timeout:g} real seconds", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
