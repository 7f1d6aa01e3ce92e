"""`edgefleet snapshot`: read the cluster once into one file that `plan --snapshot` and
`review --snapshot` plan from, so CI needs no cluster credentials (docs/review.md).

Also the shared reading of a snapshot file for the commands that accept `--snapshot`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer

from reconciler.cli.app import app
from reconciler.cli.messages import fail
from reconciler.cycle import utc_now
from reconciler.kube.applying import ApplyReport
from reconciler.kube.errors import KubeError
from reconciler.kube.reading import observe
from reconciler.kube.session import Session
from reconciler.kube.snapshot import write_snapshot
from reconciler.observed import ClusterFacts
from reconciler.observed.snapshot import decode_snapshot
from reconciler.planner.model import Plan

SnapshotOption = Annotated[Path | None, typer.Option(
    "--snapshot", help="Plan from a file written by `edgefleet snapshot` instead of a live cluster.")]
MaxAgeOption = Annotated[str, typer.Option(
    "--max-age", help="Warn when the snapshot is older than this (e.g. 30m, 6h, 2d).")]

_DURATION = re.compile(r"^(\d+)([smhd])$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@app.command("snapshot", help=(
    "Read nodes, ImagePrePullJobs, EdgeNodeInventory and FleetRollout objects into one "
    "gzip-compressed file.\n\n"
    "Nodes keep only what planning reads (name, labels, creation time, readiness, image names), "
    "so the file "
    "is a small fraction of `kubectl get nodes -o json`. `plan --snapshot FILE` and "
    "`review --snapshot FILE` plan from it exactly as from the cluster, rollout waves "
    "included; a read-only ServiceAccount (get/list on those four kinds) is all it needs.\n\n"
    "Exit codes: 0 written, 1 error (nothing is written: the file is replaced atomically)."
))
def snapshot_command(
    out: Annotated[Path, typer.Option("--out", "-o", help="File to write (e.g. fleet-snapshot.json.gz).")],
    kubeconfig: Annotated[Path | None, typer.Option(
        "--kubeconfig", help="kubeconfig of the cluster (default: $KUBECONFIG or ~/.kube/config).")] = None,
    context: Annotated[str | None, typer.Option("--context", help="kubeconfig context.")] = None,
) -> None:
    taken_at = utc_now()
    try:
        session = Session.from_kubeconfig(kubeconfig, context)
        try:
            counts = write_snapshot(session, out, taken_at=taken_at)
        finally:
            session.close()
    except KubeError as error:
        fail(str(error))
    except OSError as error:
        fail(f"--out {out}: {error.strerror or error}")
    typer.echo(f"snapshot {out}: {counts.nodes:,} nodes, {counts.jobs:,} jobs, "
               f"{counts.inventories:,} inventories, {counts.rollouts:,} rollouts "
               f"({counts.job_api_version}), "
               f"{out.stat().st_size:,} bytes, taken at {taken_at.isoformat()}", err=True)


def parse_max_age(value: str) -> timedelta:
    """`30m`, `6h`, `2d` as a timedelta; a bad value is a one-line error (exit 1)."""
    match = _DURATION.match(value.strip())
    if match is None:
        fail(f"--max-age {value!r}: expected a number and a unit (s, m, h, d), e.g. 6h")
    return timedelta(seconds=int(match.group(1)) * _UNIT_SECONDS[match.group(2)])


def read_snapshot(path: Path, *, now: datetime, max_age: timedelta) -> ClusterFacts:
    """The facts of a snapshot file; warns on stderr when it was taken more than `max_age`
    before `now`. A missing or malformed file is a one-line error naming it (exit 1)."""
    try:
        snapshot = decode_snapshot(path.read_bytes())
    except OSError as error:
        fail(f"--snapshot {path}: {error.strerror or error}")
    except ValueError as error:
        fail(f"--snapshot {path}: {error}")
    age = now - snapshot.taken_at
    if age > max_age:
        typer.echo(f"warning: --snapshot {path} was taken {_hours(age)} ago "
                   f"(at {snapshot.taken_at.isoformat()}), more than --max-age; the plan may be stale",
                   err=True)
    return snapshot.facts


def _hours(age: timedelta) -> str:
    minutes = int(age.total_seconds() // 60)
    return f"{minutes // 60}h{minutes % 60:02d}m"


def observe_live(kubeconfig: Path | None, context: str | None) -> ClusterFacts:
    """The facts of a live cluster (the alternative to `--snapshot`). Raises KubeError."""
    session = Session.from_kubeconfig(kubeconfig, context)
    try:
        return observe(session)
    finally:
        session.close()


class SnapshotCluster:
    """The cluster of a snapshot file, for `sync --dry-run --snapshot`: observing returns the
    file's facts; applying writes nothing (there is no server) and reports what a sync would
    create, delete and record. Pull secrets are not in a snapshot: they are not checked."""

    def __init__(self, facts: ClusterFacts) -> None:
        self.facts = facts

    def observe(self, *, secrets: Iterable[str] = ()) -> ClusterFacts:
        """The snapshot's facts (secrets unknown)."""
        return self.facts

    def apply(self, plan: Plan, *, dry_run: bool) -> ApplyReport:
        """What applying `plan` would write; writes nothing."""
        return ApplyReport(dry_run=True, created=tuple(job.name for job in plan.create),
                           deleted=tuple(job.name for job in plan.delete),
                           inventories=tuple(update.node for update in plan.inventory_updates))
