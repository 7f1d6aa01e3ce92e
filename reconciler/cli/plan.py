"""`edgefleet plan`: what a revision would change on a cluster (live or from snapshots).

Exit codes follow `terraform plan -detailed-exitcode`: 0 nothing to do, 2 changes planned (jobs
or inventory records `sync` would write), 1 error (one line on stderr naming the file:line or
the object).
"""

from __future__ import annotations

from dataclasses import replace
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from reconciler.cli.app import app
from reconciler.cli.fleet_source import FleetSource, open_fleet_source
from reconciler.cli.messages import fail, print_diagnostics
from reconciler.cli.registry_options import (
    DockerConfigOption,
    InsecureOption,
    RegistryCaOption,
    RegistryOption,
    open_registry,
    with_live_pull_secrets,
)
from reconciler.cli.snapshot import MaxAgeOption, SnapshotOption, parse_max_age, read_snapshot
from reconciler.cycle import utc_now
from reconciler.kube.errors import KubeError
from reconciler.kube.reading import observe
from reconciler.kube.rollouts import read_rollouts
from reconciler.kube.session import Session
from reconciler.kubeedge import JOB_API_VERSIONS, JobSpecError
from reconciler.manifests import load_fleet
from reconciler.manifests.fleet import Fleet
from reconciler.observed import ClusterFacts, from_snapshots
from reconciler.observed.rollouts import RolloutFacts
from reconciler.planner import EmptyDesiredState, PlannerSettings, plan_revision
from reconciler.planner.secrets import secret_refs
from reconciler.report import render_plan
from reconciler.source import SourceError

EXIT_NO_CHANGES, EXIT_ERROR, EXIT_CHANGES = 0, 1, 2


class OutputFormat(StrEnum):
    markdown = "markdown"
    json = "json"
    yaml = "yaml"


RepoOption = Annotated[str, typer.Option(
    "--repo", help="Fleet repository: a directory (git or not) or a git URL.")]
RevOption = Annotated[str | None, typer.Option("--rev", help="Revision to read (default HEAD).")]
PathOption = Annotated[str | None, typer.Option(
    "--path", help="Fleet directory in the repository (default: root).")]
KubeconfigOption = Annotated[Path | None, typer.Option(
    "--kubeconfig", help="kubeconfig of the cluster (default: $KUBECONFIG or ~/.kube/config).")]
ContextOption = Annotated[str | None, typer.Option("--context", help="kubeconfig context.")]
BaseOption = Annotated[str | None, typer.Option(
    "--base", help="Also show what the change from this revision (e.g. main) does per group.")]
NodesOption = Annotated[Path | None, typer.Option("--nodes", help="Snapshot: `kubectl get nodes -o json`.")]
JobsOption = Annotated[Path | None, typer.Option(
    "--jobs", help="Snapshot: `kubectl get imageprepulljobs -o json`.")]
InventoriesOption = Annotated[Path | None, typer.Option(
    "--inventories", help="Snapshot: `kubectl get edgenodeinventories -o json`.")]
JobApiOption = Annotated[str | None, typer.Option(
    "--job-api-version",
    help="Job dialect for snapshots (default: that of --jobs, else operations.kubeedge.io/v1alpha2).")]
OutputOption = Annotated[OutputFormat, typer.Option(
    "--output", "-o", help="markdown for people, json/yaml for tools.")]


@app.command("plan", help=(
    "Show which ImagePrePullJobs a revision would create and delete.\n\n"
    "The cluster is read live (--kubeconfig/--context), from a file of `edgefleet snapshot` "
    "(--snapshot), or from kubectl outputs (--nodes: the output "
    "of `kubectl get nodes -o json`; --jobs: of `kubectl get imageprepulljobs -o json`; "
    "--inventories: of `kubectl get edgenodeinventories -o json`), so a plan can run in CI "
    "without credentials.\n\n"
    "Exit codes: 0 nothing to do, 2 changes planned (jobs to create or delete, or "
    "EdgeNodeInventory records that sync would write), 1 error."
))
def plan_command(
    repo: RepoOption,
    rev: RevOption = None,
    path: PathOption = None,
    base: BaseOption = None,
    kubeconfig: KubeconfigOption = None,
    context: ContextOption = None,
    nodes: NodesOption = None,
    jobs: JobsOption = None,
    inventories: InventoriesOption = None,
    job_api_version: JobApiOption = None,
    output: OutputOption = OutputFormat.markdown,
    snapshot: SnapshotOption = None,
    max_age: MaxAgeOption = "24h",
    registry: RegistryOption = False,
    insecure_registry: InsecureOption = None,
    docker_config: DockerConfigOption = None,
    registry_ca: RegistryCaOption = None,
) -> None:
    if snapshot is not None and (nodes is not None or kubeconfig is not None or context is not None):
        fail("use one of --snapshot, snapshots (--nodes ...) or a cluster (--kubeconfig/--context)")
    if nodes is None and (jobs is not None or inventories is not None):
        fail("--jobs and --inventories need --nodes (or read the cluster with --kubeconfig)")
    if nodes is not None and (kubeconfig is not None or context is not None):
        fail("use either snapshots (--nodes ...) or a cluster (--kubeconfig/--context), not both")
    if job_api_version is not None and job_api_version not in JOB_API_VERSIONS:
        fail(f"--job-api-version {job_api_version!r}: expected one of {', '.join(sorted(JOB_API_VERSIONS))}")
    lookup = open_registry(registry, insecure_registry, docker_config, registry_ca)
    if snapshot is None and nodes is None:  # live: the groups' pull secrets authenticate
        with_live_pull_secrets(lookup, kubeconfig, context)
    try:
        source = open_fleet_source(repo, path)
        files = source.read(rev)
        fleet = _load(files.files)
        if snapshot is not None:
            facts = read_snapshot(snapshot, now=utc_now(), max_age=parse_max_age(max_age))
        else:
            facts = (_from_snapshot_files(nodes, jobs, inventories, job_api_version) if nodes is not None
                     else _observe_live(kubeconfig, context, secret_refs(fleet)))
        if lookup is not None:  # docs/registry.md; an unreachable registry is a plan warning
            facts = replace(facts, registry=lookup(fleet))
        base_fleet, base_revision = _base(source, base) if base is not None else (None, None)
        the_plan = plan_revision(fleet, facts, now=utc_now(), revision=files.revision,
                                 settings=PlannerSettings(), base=base_fleet,
                                 base_revision=base_revision,
                                 rollouts=(None if nodes is not None or snapshot is not None
                                           else _live_rollouts(kubeconfig, context)))
        rendered = render_plan(the_plan.to_dict(), output.value)
    except (SourceError, KubeError, EmptyDesiredState) as error:
        fail(str(error))
    except JobSpecError as error:  # e.g. jobs of a dialect edgefleet does not write
        fail(f"cannot build the planned jobs: {error}")
    finally:
        if lookup is not None:
            lookup.close()
    typer.echo(rendered)
    # Inventory records count as changes: `sync` would write them (evidence it must keep).
    changes = the_plan.has_changes or bool(the_plan.inventory_updates)
    raise typer.Exit(EXIT_CHANGES if changes else EXIT_NO_CHANGES)


def _load(files: dict[str, bytes]) -> Fleet:
    loaded = load_fleet(files)
    print_diagnostics(loaded.warnings, "warning")
    if loaded.errors or loaded.fleet is None:
        print_diagnostics(loaded.errors, "error")
        raise typer.Exit(EXIT_ERROR)
    return loaded.fleet


def _read_snapshot(file: Path | None, option: str) -> bytes | None:
    if file is None:
        return None
    try:
        return file.read_bytes()
    except OSError as error:
        fail(f"{option} {file}: {error.strerror or error}")


def _from_snapshot_files(nodes: Path, jobs: Path | None, inventories: Path | None,
                         job_api_version: str | None) -> ClusterFacts:
    node_bytes = _read_snapshot(nodes, "--nodes")
    assert node_bytes is not None
    job_bytes, inventory_bytes = _read_snapshot(jobs, "--jobs"), _read_snapshot(inventories, "--inventories")
    try:
        return from_snapshots(node_bytes, job_bytes, inventory_bytes, job_api_version=job_api_version)
    except ValueError as error:
        # Name the snapshot: decode errors say `$.items[3].metadata` but not which file.
        which = ", ".join(str(f) for f in (nodes, jobs, inventories) if f is not None)
        fail(f"snapshot {which}: not a list as `kubectl get ... -o json` prints it: {error}")


def _observe_live(kubeconfig: Path | None, context: str | None,
                  secrets: frozenset[str]) -> ClusterFacts:
    session = Session.from_kubeconfig(kubeconfig, context)
    try:
        return observe(session, secret_refs=secrets)
    finally:
        session.close()


def _live_rollouts(kubeconfig: Path | None, context: str | None) -> dict[str, RolloutFacts]:
    """The FleetRollouts of the cluster, so `plan` gates as `sync` would (docs/rollout.md)."""
    session = Session.from_kubeconfig(kubeconfig, context)
    try:
        return read_rollouts(session)
    finally:
        session.close()


def _base(source: FleetSource, base: str) -> tuple[Fleet, str | None]:
    """The fleet of `base` and its commit. The base revision must load (it was good once, or it
    is not a base)."""
    base_files = source.read(base)
    loaded = load_fleet(base_files.files)
    if loaded.fleet is None:
        fail(f"--base {base}: the base revision does not load: {loaded.errors[0]}")
    return loaded.fleet, base_files.revision
