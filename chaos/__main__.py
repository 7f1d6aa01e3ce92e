"""`make chaos` / `python -m chaos [--short]`: reliability figures on the embedded cluster.

Runs (issue 14): convergence of fleet-examples under injected API faults (5xx, 429 with
Retry-After, latency, dropped watches, 410 on resume); a row of bad commits (invalid YAML, a
schema error, an empty desired state, a force-push back to an older revision); SIGKILL of
`edgefleet run` at each of its first writes, then restart; two and three replicas with the
leader SIGKILLed at a write (takeover within the Lease duration); the same with `--shards`, a
shard holder killed mid-cycle (0 double writes); hypothesis fuzzing of manifests, node
snapshots and job statuses (34,000 cases per target by default, over up to 2 processes).
Prints one table and exits 1 when a figure that must be 0 is not (or a run did not converge).
`--short` is the variant `make test` runs (tests/chaos): few nodes, light faults.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from chaos.fuzz import fuzz
from chaos.kills import sigkill_run
from chaos.replicas import replicas_run
from chaos.runs import FaultProfile, bad_commits_run, faults_run
from chaos.shards import shards_run

#: Figures that must be 0 (the rest are context).
ZERO_SUFFIXES = ("duplicate jobs", "created twice (409)", "wrongful deletions", "deletions",
                 "tracebacks", "naming file and line", "not converged", "not refused or not kept",
                 "evidence lost", "did not settle", "double writes")


def run(*, nodes: int, speed: float, profile: FaultProfile, timeout: float,
        fuzz_cases: int, kills: int, fuzz_workers: int = 1,
        only: str | None = None) -> dict[str, float]:
    """Every run (or, with `only="faults"`, the faults run alone); their figures in one dict
    (insertion order = table order)."""
    figures: dict[str, float] = {}

    def timed(name: str, results: dict[str, float]) -> None:
        nonlocal started
        print(f"chaos: {name} done in {time.monotonic() - started:.0f} s: "
              + ", ".join(f"{k.partition(': ')[2]} = {v:g}" for k, v in results.items()),
              file=sys.stderr, flush=True)
        figures.update(results)
        started = time.monotonic()

    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="edgefleet-chaos-") as tmp:
        timed("faults", faults_run(Path(tmp) / "faults", nodes=nodes, speed=speed, profile=profile,
                                   timeout=timeout))
        if only == "faults":
            return figures
        timed("bad commits", bad_commits_run(Path(tmp) / "commits", nodes=nodes, speed=speed,
                                             timeout=timeout))
        timed("sigkill", sigkill_run(Path(tmp) / "kills", nodes=nodes, kills=kills, timeout=timeout))
        for replicas in (2, 3):
            timed(f"{replicas} replicas", replicas_run(Path(tmp) / f"replicas-{replicas}", nodes=nodes,
                                                       replicas=replicas, timeout=timeout))
        for replicas in (2, 3):  # shard holders killed mid-cycle (chaos/shards.py)
            timed(f"{replicas} replicas, --shards", shards_run(Path(tmp) / f"shards-{replicas}",
                                                             nodes=nodes, replicas=replicas,
                                                             timeout=timeout))
    timed("fuzz", fuzz(fuzz_cases, workers=fuzz_workers))
    return figures


def must_be_zero(name: str) -> bool:
    """Whether figure `name` is one of the zeros the suite promises."""
    return name.endswith(ZERO_SUFFIXES)


def table(figures: dict[str, float]) -> str:
    """The figures as a Markdown table; a zero that is not 0 is marked."""
    lines = ["| Figure | Value | Must be 0 |", "|---|--:|:-:|"]
    for name, value in figures.items():
        mark = ("yes" if value == 0 else "**NOT 0**") if must_be_zero(name) else ""
        lines.append(f"| {name} | {value:g} | {mark} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the suite; 0 when every promised zero is 0, else 1."""
    parser = argparse.ArgumentParser(prog="python -m chaos", description=__doc__.split("\n")[0])
    parser.add_argument("--short", action="store_true", help="the quick variant make test runs")
    parser.add_argument("--nodes", type=int, default=None, help="simulated nodes (default 2000, short 30)")
    parser.add_argument("--fuzz-cases", type=int, default=None,
                        help="hypothesis cases per fuzz target, 3 targets (default 34000, short 100)")
    parser.add_argument("--fuzz-workers", type=int, default=min(2, os.cpu_count() or 1),
                        help="processes the fuzz cases are spread over (default: up to 2 cores)")
    parser.add_argument("--kills", type=int, default=None,
                        help="SIGKILLs at the first writes (default 50, short 3)")
    parser.add_argument("--only", choices=("faults",), default=None,
                        help="run only this scenario (faults: convergence under injected API faults)")
    args = parser.parse_args(argv)
    if args.short:
        nodes, speed, timeout = args.nodes or 30, 120.0, 180.0
        cases, kills = args.fuzz_cases or 100, args.kills or 3
        profile = FaultProfile(error_rate=0.05, throttle_rate=0.03, latency=0.01,
                               drop_watch_after_seconds=2.0, gone_on_resume=0.3)
    else:
        nodes, speed, timeout = args.nodes or 2000, 60.0, 1800.0
        cases, kills = args.fuzz_cases or 34000, args.kills or 50
        profile = FaultProfile()
    print(f"chaos: {nodes:,} simulated nodes, {cases:,} fuzz cases per target ...", file=sys.stderr,
          flush=True)
    figures = run(nodes=nodes, speed=speed, profile=profile, timeout=timeout, fuzz_cases=cases,
                  kills=kills, fuzz_workers=args.fuzz_workers, only=args.only)
    print(table(figures))
    failed = [name for name, value in figures.items() if must_be_zero(name) and value != 0]
    if failed:
        print(f"chaos: not 0: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
