"""`python -m bench.snapshot [--nodes 100000]`: the fleet snapshot (issue 10) as ratios.

On the benchmark's generated node list (bench.workload: what `kubectl get nodes -o json`
returns, compact, every reported image), in one process, fastest of `--repeat` rounds:

- baseline: a bare `orjson.loads` of the node list;
- write: the snapshot writer (kube/snapshot.stream_snapshot: nodes reduced page by page,
  gzip-compressed to a file, as `edgefleet snapshot` does minus the API round trips);
- read: `decode_snapshot` of the file (what `plan --snapshot` does before planning);
- nodes: `from_snapshots` of the node list (what `plan --nodes` does today);
- read v1alpha1: `decode_snapshot` of the same nodes in the first snapshot format (nodes in
  node-list shape, names as reported, normalized on reading): the before of the v1alpha2 format.

Targets (issue 10): the snapshot is at most 10 % of the node list's size (compact JSON; the
indented `kubectl` output is larger still), and reads in at most the time `plan --nodes`
takes to decode the node list (read / nodes <= 1). Writes bench/out/snapshot.json.
"""

from __future__ import annotations

import argparse
import gc
import gzip
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, cast

import orjson

from bench.workload import write_workload
from reconciler.kube.snapshot import stream_snapshot
from reconciler.observed import from_snapshots
from reconciler.observed.nodes import reduce_nodes
from reconciler.observed.snapshot import decode_snapshot

TARGETS: dict[str, float] = {"sizeRatio": 0.10, "readVsNodesRatio": 1.0}
PAGE_ITEMS = 500  # a LIST page of the writer (kube/listing.py asks for pages of this order)
TAKEN_AT = datetime(2026, 1, 1, tzinfo=UTC)
DEFAULT_OUT = Path(__file__).resolve().parent / "out" / "snapshot.json"


def pages(node_list: bytes) -> Iterator[bytes]:
    """The node list cut into LIST page bodies, as the API server would send them."""
    items = orjson.loads(node_list)["items"]
    for start in range(0, len(items), PAGE_ITEMS):
        yield orjson.dumps({"kind": "NodeList", "items": items[start:start + PAGE_ITEMS]})


def write(out: Path, node_pages: list[bytes]) -> int:
    """The snapshot file from pages, through the command's writer and gzip settings."""
    with out.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as stream:
        counts = stream_snapshot(cast(IO[bytes], stream), taken_at=TAKEN_AT,
                                 job_api_version="operations.kubeedge.io/v1alpha2", inventory_served=True,
                                 node_pages=node_pages, job_pages=(), inventory_pages=())
    return counts.nodes


def write_v1alpha1(out: Path, node_pages: list[bytes]) -> None:
    """The same nodes as a v1alpha1 snapshot (what `edgefleet snapshot` wrote before v1alpha2)."""
    items = b",".join(item for page in node_pages for item in reduce_nodes(page))
    with out.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as stream:
        stream.write(b'{"apiVersion":"edgefleet.io/v1alpha1","kind":"FleetSnapshot",'
                     b'"takenAt":"2026-01-01T00:00:00Z","jobApiVersion":"operations.kubeedge.io/v1alpha2",'
                     b'"inventoryServed":true,"nodes":{"items":[' + items + b']},'
                     b'"jobs":{"items":[]},"inventories":{"items":[]},"rollouts":{"items":[]}}')


def fastest(work: Callable[[], Any], repeat: int) -> float:
    """Seconds of the fastest of `repeat` runs (the collector on, as a program runs)."""
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        started = time.perf_counter()
        result = work()
        best = min(best, time.perf_counter() - started)
        del result
    return best


def measure(nodes: int, workdir: Path, *, seed: int, repeat: int) -> dict[str, Any]:
    """One results row for a `nodes`-node fleet."""
    workload = write_workload(nodes, workdir, seed=seed)
    node_list = workload.snapshot.read_bytes()
    node_pages = list(pages(node_list))  # cut outside the timing: the API server's work
    out = workdir / "fleet-snapshot.json.gz"
    baseline = fastest(lambda: orjson.loads(node_list), repeat)
    written = fastest(lambda: write(out, node_pages), repeat)
    data = out.read_bytes()
    read = fastest(lambda: decode_snapshot(out.read_bytes()), repeat)
    decoded_nodes = fastest(lambda: from_snapshots(node_list), repeat)
    old = workdir / "fleet-snapshot-v1alpha1.json.gz"
    write_v1alpha1(old, node_pages)
    read_old = fastest(lambda: decode_snapshot(old.read_bytes()), repeat)
    if decode_snapshot(data).facts.nodes != from_snapshots(node_list).nodes:
        raise RuntimeError("the snapshot does not hold the nodes of the list")
    size_ratio = len(data) / len(node_list)
    read_vs_nodes = read / decoded_nodes
    return {
        "nodes": nodes,
        "nodeListBytes": len(node_list),
        "snapshotBytes": len(data),
        "sizeRatio": round(size_ratio, 4),
        "decodeSeconds": round(baseline, 4),
        "writeSeconds": round(written, 4),
        "writeRatio": round(written / baseline, 3),
        "readSeconds": round(read, 4),
        "readRatio": round(read / baseline, 3),
        "nodesSeconds": round(decoded_nodes, 4),
        "nodesRatio": round(decoded_nodes / baseline, 3),
        "readVsNodesRatio": round(read_vs_nodes, 3),
        "readV1alpha1Seconds": round(read_old, 4),
        "readV1alpha1VsNodesRatio": round(read_old / decoded_nodes, 3),
        "targetsMet": size_ratio <= TARGETS["sizeRatio"] and read_vs_nodes <= TARGETS["readVsNodesRatio"],
    }


def table(row: dict[str, Any]) -> str:
    """The results as a small aligned table."""
    lines = [
        f"snapshot of {row['nodes']:,} nodes: {row['snapshotBytes']:,} bytes = {row['sizeRatio']:.1%} "
        f"of the node list ({row['nodeListBytes']:,} bytes; target <= {TARGETS['sizeRatio']:.0%})",
        f"{'':28}{'seconds':>10}{'x orjson':>10}",
        f"{'orjson.loads(node list)':28}{row['decodeSeconds']:>10.3f}{1:>10.2f}",
        f"{'write snapshot (gzip)':28}{row['writeSeconds']:>10.3f}{row['writeRatio']:>10.2f}",
        f"{'read snapshot':28}{row['readSeconds']:>10.3f}{row['readRatio']:>10.2f}",
        f"{'plan --nodes decode':28}{row['nodesSeconds']:>10.3f}{row['nodesRatio']:>10.2f}",
        f"{'read v1alpha1 snapshot':28}{row['readV1alpha1Seconds']:>10.3f}"
        f"{row['readV1alpha1Seconds'] / row['decodeSeconds']:>10.2f}",
        f"read / plan --nodes decode: {row['readVsNodesRatio']:.2f} "
        f"(target <= {TARGETS['readVsNodesRatio']:.1f}; v1alpha1 {row['readV1alpha1VsNodesRatio']:.2f}); "
        f"targets met: {row['targetsMet']}",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; returns the exit code (1 with --check when a target is missed)."""
    parser = argparse.ArgumentParser(prog="python -m bench.snapshot", description=__doc__.split("\n")[0])
    parser.add_argument("--nodes", type=int, default=100_000, help="fleet size (default 100000)")
    parser.add_argument("--seed", type=int, default=42, help="fleet generator seed (default 42)")
    parser.add_argument("--repeat", type=int, default=3, help="rounds; the fastest counts (default 3)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="results file (JSON)")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    if args.nodes < 1:
        parser.error("--nodes must be at least 1")
    print(f"bench.snapshot: {args.nodes:,} nodes ...", file=sys.stderr, flush=True)
    with tempfile.TemporaryDirectory(prefix="edgefleet-bench-snapshot-") as workdir:
        row = measure(args.nodes, Path(workdir), seed=args.seed, repeat=max(1, args.repeat))
    print(table(row))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(orjson.dumps({"targets": TARGETS, "seed": args.seed, "results": [row]},
                                      option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n")
    print(f"results written to {args.out}", file=sys.stderr)
    return 1 if args.check and not row["targetsMet"] else 0


if __name__ == "__main__":
    sys.exit(main())
