"""`make bench` / `python -m bench [--sizes 10000,100000]`: plan cost as ratios, not timings.

For each size: generate a seeded node snapshot and a matching fleet repository (bench.workload),
then measure, each in a fresh process (bench.probe), the bare `orjson.loads` of the snapshot (as
a program runs it, and again with the garbage collector off: a stricter floor) and `edgefleet
plan --output json` on it. Prints a table and writes bench/out/results.json.
Targets (issue 4): plan time <= 3x the decode at 100,000 nodes; plan peak memory <= 4x the
snapshot size. Exit code 0 unless `--check` is given and a target is missed (then 1).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import orjson

from bench.measure import TARGETS, measure_size, results_table
from bench.workload import GROUPS

DEFAULT_SIZES = (10_000, 100_000)
DEFAULT_OUT = Path(__file__).resolve().parent / "out" / "results.json"


def _sizes(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(part.replace("_", "")) for part in text.split(",") if part.strip())
    except ValueError:
        message = f"--sizes takes node counts like 10000,100000, not {text!r}"
        raise argparse.ArgumentTypeError(message) from None
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError("--sizes needs at least one positive node count")
    return sizes


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; returns the exit code."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=_sizes, default=DEFAULT_SIZES,
                        help="comma-separated node counts (default: 10000,100000)")
    parser.add_argument("--seed", type=int, default=42, help="fleet generator seed (default 42)")
    parser.add_argument("--groups", type=int, default=GROUPS, help=f"node groups (default {GROUPS})")
    parser.add_argument("--repeat", type=int, default=1,
                        help="runs per measurement; the fastest counts (default 1)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="results file (JSON)")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    results = []
    with tempfile.TemporaryDirectory(prefix="edgefleet-bench-") as workdir:
        for size in args.sizes:
            print(f"bench: {size:,} nodes ...", file=sys.stderr, flush=True)
            results.append(measure_size(size, Path(workdir), seed=args.seed, groups=args.groups,
                                        repeat=max(1, args.repeat)))
    print(results_table(results))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    document = {"targets": TARGETS, "seed": args.seed, "results": results}
    args.out.write_bytes(orjson.dumps(document, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n")
    print(f"results written to {args.out}", file=sys.stderr)
    missed = [r for r in results if not r["targetsMet"]]
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    sys.exit(main())
