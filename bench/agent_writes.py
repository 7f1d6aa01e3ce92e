"""`python -m bench.agent_writes [--nodes 50 --hours 24]`: the edge agents' API write rate (issue 8).

Runs the embedded cluster on a manual clock with an agent on every edge node (the agent's own
pure logic: report, content hash, `write_due`, jittered resync) for `--hours` of simulated time,
while each node's image store changes `--changes` times a day at seeded random moments (an image
removed, as image GC does, or pulled back). Counts the `status.agent` writes after the first one
of each node (steady state) and compares them, as a ratio, with a naive agent that writes its
report at every poll. The fleet-wide rate at `--fleet` nodes (100,000) is the measured writes per
node per hour times the fleet size: target under 100 requests/s (docs/agent.md shows the
arithmetic).
"""

from __future__ import annotations

import argparse
import random
import sys

import orjson

from reconciler.agent.writer import DEFAULT_RESYNC
from reconciler.sim.clock import ManualClock
from reconciler.sim.cluster import EmbeddedCluster
from reconciler.sim.kubeedge.agents import DEFAULT_INTERVAL
from reconciler.sim.kubeedge.fleetgen import FleetOptions
from reconciler.sim.kubeedge.registry import RegistryImage

TARGET_FLEET_RATE = 100.0  # requests/s for the whole fleet


def _changes(cluster: EmbeddedCluster, hours: float, per_day: float, rng: random.Random
             ) -> list[tuple[float, str]]:
    """(simulated second, node) of every store change, sorted."""
    moments: list[tuple[float, str]] = []
    for name in cluster.nodes:
        expected = per_day * hours / 24
        count = int(expected) + (1 if rng.random() < expected - int(expected) else 0)
        moments.extend((rng.uniform(DEFAULT_INTERVAL, hours * 3600), name) for _ in range(count))
    return sorted(moments)


def _toggle(cluster: EmbeddedCluster, name: str, parked: dict[str, RegistryImage]) -> None:
    """Remove one image from the node's store, or pull back the one removed before."""
    handle = cluster.nodes[name]
    if name in parked:
        image = parked.pop(name)
        with cluster.simulation.lock:
            cluster.fleet.land(name, image, cluster.clock.now())
        return
    held = sorted(handle.images())
    if not held:
        return
    ref = held[0]
    with cluster.simulation.lock:
        parked[name] = handle.edge.images[ref].image
    handle.remove_image(ref)


def measure(nodes: int, hours: float, per_day: float, seed: int, fleet: int) -> dict[str, float]:
    """Run the simulation; returns the figures the report prints."""
    options = FleetOptions(nodes=nodes, seed=seed, offline=0.0, flapping=0.0, silent=0.0, slow=0.0)
    cluster = EmbeddedCluster(nodes=nodes, clock=ManualClock(), serve=False, seed=seed, fleet=options,
                              heartbeat_seconds=None, agents=1.0)
    cluster.start()
    try:
        cluster.advance(DEFAULT_INTERVAL + 1)  # every agent's first write
        first = cluster.agents.writes
        changes = _changes(cluster, hours, per_day, random.Random(seed))
        parked: dict[str, RegistryImage] = {}
        elapsed = DEFAULT_INTERVAL + 1
        for moment, name in changes:
            if moment > elapsed:
                cluster.advance(moment - elapsed)
                elapsed = moment
            _toggle(cluster, name, parked)
        cluster.advance(hours * 3600 - elapsed)
        steady = cluster.agents.writes - first
    finally:
        cluster.stop()
    node_hours = nodes * (hours * 3600 - DEFAULT_INTERVAL - 1) / 3600
    per_node_hour = steady / node_hours
    naive_per_node_hour = 3600 / DEFAULT_INTERVAL
    return {
        "nodes": nodes, "hours": hours, "changesPerNodePerDay": per_day,
        "storeChanges": len(changes), "writes": steady,
        "writesPerNodePerHour": round(per_node_hour, 4),
        "naiveWritesPerNodePerHour": naive_per_node_hour,
        "ratioToNaive": round(per_node_hour / naive_per_node_hour, 4),
        "fleet": fleet,
        "fleetWritesPerSecond": round(per_node_hour * fleet / 3600, 2),
        "naiveFleetWritesPerSecond": round(naive_per_node_hour * fleet / 3600, 2),
        "resyncSeconds": DEFAULT_RESYNC, "pollSeconds": DEFAULT_INTERVAL,
    }


def main(argv: list[str] | None = None) -> int:
    """Run and print the comparison; with --check, exit 1 when the fleet rate misses the target."""
    parser = argparse.ArgumentParser(prog="python -m bench.agent_writes", description=__doc__.split("\n")[0])
    parser.add_argument("--nodes", type=int, default=50, help="simulated edge nodes (default 50)")
    parser.add_argument("--hours", type=float, default=24.0, help="simulated hours (default 24)")
    parser.add_argument("--changes", type=float, default=2.0,
                        help="image store changes per node per day (default 2)")
    parser.add_argument("--fleet", type=int, default=100_000, help="fleet size to scale to")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--check", action="store_true", help="exit 1 when the target is missed")
    args = parser.parse_args(argv)
    print(f"bench.agent_writes: {args.nodes} nodes, {args.hours:g} simulated hours ...",
          file=sys.stderr, flush=True)
    result = measure(args.nodes, args.hours, args.changes, args.seed, args.fleet)
    met = result["fleetWritesPerSecond"] < TARGET_FLEET_RATE
    if args.json:
        print(orjson.dumps({**result, "targetMet": met}, option=orjson.OPT_INDENT_2).decode())
    else:
        print(f"agent writes per node per hour (steady state): {result['writesPerNodePerHour']:.3f} "
              f"vs {result['naiveWritesPerNodePerHour']:.0f} for a writer at every poll: "
              f"ratio {result['ratioToNaive']:.4f} ({result['storeChanges']} store changes, "
              f"{result['writes']:.0f} writes)")
        print(f"at {args.fleet:,} nodes: {result['fleetWritesPerSecond']:.1f} writes/s fleet-wide "
              f"(naive {result['naiveFleetWritesPerSecond']:,.0f}/s); target < {TARGET_FLEET_RATE:g}/s: "
              f"{'met' if met else 'MISSED'}")
    return 1 if args.check and not met else 0


if __name__ == "__main__":
    sys.exit(main())
