"""One measurement in a fresh interpreter: `python -m bench.probe KIND SNAPSHOT REPO`.

Each measurement runs in its own process so its peak memory (VmHWM) is its own. The probe
imports everything first, notes the resident-set high-water mark, runs the work once under a
monotonic timer, and prints one JSON object: seconds, peak_bytes (growth of the high-water
mark during the work) and, for `plan`, the plan's counts.
"""

from __future__ import annotations

import contextlib
import gc
import io
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import typer

from reconciler.cli.plan import OutputFormat, plan_command


def _max_rss_bytes() -> int:
    """This process's resident-set high-water mark, in bytes.

    VmHWM belongs to the address space, which exec replaces; ru_maxrss instead survives exec
    and would start at the (large) parent's RSS, hiding the probe's own peak.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux, BSD: KiB


def decode(snapshot: Path, _repo: Path) -> dict[str, Any]:
    """The baseline: read the snapshot and decode it whole into Python objects with orjson."""
    document = orjson.loads(snapshot.read_bytes())
    return {"items": len(document.get("items") or ())}


def decode_without_gc(snapshot: Path, repo: Path) -> dict[str, Any]:
    """The strict baseline: the same decode with the cyclic garbage collector off. Building
    millions of dicts triggers full collections that cost about as much as the parsing itself;
    this is the decoder's own speed, a floor no real program runs at."""
    gc.disable()
    try:
        return decode(snapshot, repo)
    finally:
        gc.enable()


def plan_json(snapshot: Path, repo: Path) -> dict[str, Any]:
    """`edgefleet plan --repo REPO --nodes SNAPSHOT --output json`, in process, through the
    CLI's own command function (reads the fleet, decodes the nodes, plans, renders JSON).
    Returns the plan's counts, read back from the output after the work is timed."""
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        try:
            plan_command(repo=str(repo), nodes=snapshot, output=OutputFormat.json)
        except typer.Exit as done:
            if done.exit_code not in (0, 2):
                raise SystemExit(f"plan failed with exit code {done.exit_code}") from None
    return {"output": output}


def plan_counts(facts: dict[str, Any]) -> dict[str, Any]:
    """The counts of the plan a `plan` probe printed (decoded outside the timed work)."""
    text = facts.pop("output").getvalue()
    summary = orjson.loads(text)["summary"]
    return {
        "nodes": summary["nodes"],
        "jobs": summary["jobsCreate"],
        "pairs_desired": summary["pairsDesired"],
        "pairs_missing": summary["pairsMissing"],
        "pairs_unknown": summary.get("pairsUnknown", 0),
        "nodes_deferred": summary["nodesDeferred"],
        "output_bytes": len(text),
    }


PROBES: dict[str, Callable[[Path, Path], dict[str, Any]]] = {
    "decode": decode, "decode-nogc": decode_without_gc, "plan": plan_json}


def main(argv: list[str]) -> None:
    """Run the probe named by argv[0] on argv[1] (snapshot) and argv[2] (fleet directory)."""
    kind, snapshot, repo = argv
    work = PROBES[kind]
    before = _max_rss_bytes()
    started = time.perf_counter()
    facts = work(Path(snapshot), Path(repo))
    seconds = time.perf_counter() - started
    peak = _max_rss_bytes() - before
    if kind == "plan":
        facts = plan_counts(facts)
    sys.stdout.write(orjson.dumps({"seconds": seconds, "peak_bytes": peak, **facts}).decode() + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
