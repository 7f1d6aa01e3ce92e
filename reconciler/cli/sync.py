"""`edgefleet sync`: one reconcile cycle against a live cluster (plan, then apply)."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.progress import Progress

from reconciler.cli.app import app
from reconciler.cli.fleet_source import open_fleet_source
from reconciler.cli.messages import fail
from reconciler.cli.plan import ContextOption, KubeconfigOption, PathOption, RepoOption, RevOption
from reconciler.cli.registry_options import (
    DockerConfigOption,
    InsecureOption,
    RegistryCaOption,
    RegistryOption,
    open_registry,
    with_pull_secrets,
)
from reconciler.cli.snapshot import MaxAgeOption, SnapshotCluster, parse_max_age, read_snapshot
from reconciler.cycle import CycleResult, Outcome, SyncSettings, exit_code, sync_once, utc_now
from reconciler.kube.applying import Progress as ProgressCallback
from reconciler.kube.cluster import LiveCluster
from reconciler.kube.crds import install_crds, read_crds
from reconciler.kube.errors import KubeError
from reconciler.kube.session import Session
from reconciler.source import SourceError

log = logging.getLogger("edgefleet.sync")


@app.command("sync", help=(
    "Plan against a live cluster, then apply: create the missing ImagePrePullJobs "
    "(fieldValidation=Strict), delete finished, obsolete and stuck ones, and record evidence in "
    "EdgeNodeInventory objects. Each create and delete is logged with its reason.\n\n"
    "Idempotent: a second run creates nothing. An invalid revision changes nothing. --dry-run "
    "sends every write as a server-side dry run (dryRun=All): nothing is persisted; with "
    "--snapshot FILE it plans from a snapshot instead and sends nothing.\n\n"
    "Exit codes: 0 converged or progressing (jobs created or still running), 1 error (invalid "
    "revision, cluster unreachable or busy, a write refused)."
))
def sync_command(
    repo: RepoOption,
    rev: RevOption = None,
    path: PathOption = None,
    kubeconfig: KubeconfigOption = None,
    context: ContextOption = None,
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="Validate every write on the server; persist nothing.")] = False,
    install: Annotated[bool, typer.Option(
        "--install-crds", help="First install or update edgefleet's CRDs (deploy/crds/).")] = False,
    registry: RegistryOption = False,
    insecure_registry: InsecureOption = None,
    docker_config: DockerConfigOption = None,
    registry_ca: RegistryCaOption = None,
    snapshot: Annotated[Path | None, typer.Option(
        "--snapshot", help="With --dry-run: plan from a file of `edgefleet snapshot` and print what a "
        "sync would write, without a cluster (pull secrets are not checked).")] = None,
    max_age: MaxAgeOption = "24h",
) -> None:
    console = Console(stderr=True)
    lookup = open_registry(registry, insecure_registry, docker_config, registry_ca)
    if snapshot is not None:
        try:
            _sync_snapshot(repo, rev, path, snapshot, max_age, dry_run=dry_run,
                           live=kubeconfig is not None or context is not None or install,
                           settings=SyncSettings(dry_run=True, registry=lookup))
        finally:
            if lookup is not None:
                lookup.close()
    try:
        session = Session.from_kubeconfig(kubeconfig, context)
        source = open_fleet_source(repo, path)
    except (KubeError, SourceError) as error:
        fail(str(error))
    with_pull_secrets(lookup, session)  # the groups' pull secrets authenticate --registry
    with _logging(console), _progress(console) as progress:
        try:
            if install and not dry_run:
                for name in install_crds(session, read_crds()):
                    log.info("installed CRD %s", name)
            result = sync_once(read_revision=lambda: source.read(rev),
                               cluster=LiveCluster(session, progress=progress),
                               settings=SyncSettings(dry_run=dry_run, registry=lookup))
        except KubeError as error:
            fail(str(error))
        finally:
            session.close()
            if lookup is not None:
                lookup.close()
    _summarize(result)
    raise typer.Exit(exit_code(result.outcome))


def _sync_snapshot(repo: str, rev: str | None, path: str | None, snapshot: Path, max_age: str, *,
                   dry_run: bool, live: bool, settings: SyncSettings) -> NoReturn:
    if not dry_run:
        fail("--snapshot needs --dry-run: a snapshot is read, never written to")
    if live:
        fail("use either --snapshot or a cluster (--kubeconfig/--context/--install-crds), not both")
    now = utc_now()
    facts = read_snapshot(snapshot, now=now, max_age=parse_max_age(max_age))
    try:
        source = open_fleet_source(repo, path)
    except SourceError as error:
        fail(str(error))
    result = sync_once(read_revision=lambda: source.read(rev), cluster=SnapshotCluster(facts),
                       settings=settings, now=lambda: now)
    _summarize(result)
    raise typer.Exit(exit_code(result.outcome))


def _summarize(result: CycleResult) -> None:
    for warning in result.warnings:
        typer.echo(f"warning: {warning}", err=True)
    for error in result.errors:
        typer.echo(error, err=True)
    revision = result.revision[:12] if result.revision else "working tree"
    deferred = f"; {result.plan.summary.nodes_deferred} nodes deferred" if result.plan else ""
    line = f"{result.outcome.value} ({revision}): {result.message}{deferred}"
    if result.outcome in (Outcome.CONVERGED, Outcome.PROGRESSING):
        typer.echo(line)
    else:
        typer.echo(f"error: {line}", err=True)


@contextmanager
def _logging(console: Console) -> Iterator[None]:
    """edgefleet's INFO logs (each create and delete) on stderr for the duration of the run."""
    logger = logging.getLogger("edgefleet")
    handler: logging.Handler
    if console.is_terminal:
        handler = RichHandler(console=console, show_path=False, show_time=False)
    else:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
    previous = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)


@contextmanager
def _progress(console: Console) -> Iterator[ProgressCallback | None]:
    """A progress bar of the writes, only on a terminal (logs and CI output stay plain)."""
    if not console.is_terminal:
        yield None
        return
    with Progress(console=console, transient=True) as bar:
        task = bar.add_task("applying", total=None)

        def update(step: str, done: int, total: int) -> None:
            bar.update(task, description=step, completed=done, total=total)

        yield update
