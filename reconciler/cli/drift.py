"""`edgefleet drift`: which nodes lack which committed images, since when and why (docs/drift.md).

Reads the fleet as `plan` does (`--repo`, `--rev`, `--path`) and the cluster live or from a
file of `edgefleet snapshot`; prints or writes one report; with `--history` remembers when
each pair went missing and shows the trend. Exit codes: 0 no drift, 2 drift, 1 error.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from reconciler.cli.app import app
from reconciler.cli.fleet_source import open_fleet_source
from reconciler.cli.messages import fail
from reconciler.cli.plan import ContextOption, KubeconfigOption, PathOption, RepoOption, RevOption, _load
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
from reconciler.drift.delivery import Webhook, post_webhooks, write_report_files
from reconciler.drift.formats import FORMATS, render, render_all
from reconciler.drift.history import DriftHistory, HistoryError
from reconciler.drift.survey import Survey, drift_settings, survey, survey_with_history
from reconciler.drift.wording import headline
from reconciler.kube.errors import KubeError
from reconciler.kube.reading import observe
from reconciler.kube.session import Session
from reconciler.kube.webhook_urls import webhook_urls
from reconciler.manifests.fleet import Fleet
from reconciler.manifests.schedule import duration_seconds
from reconciler.observed import ClusterFacts
from reconciler.planner import EmptyDesiredState
from reconciler.source import SourceError

EXIT_NO_DRIFT, EXIT_ERROR, EXIT_DRIFT = 0, 1, 2


class ReportFormat(StrEnum):
    markdown = "markdown"
    json = "json"
    html = "html"


OutputOption = Annotated[ReportFormat, typer.Option(
    "--output", "-o", help="markdown for an issue or chat, json (kind: DriftReport) for tools, "
                           "html for a single-file page with plots.")]
OutFileOption = Annotated[Path | None, typer.Option(
    "--out", help="Write the report to this file instead of stdout.")]
HistoryOption = Annotated[str | None, typer.Option(
    "--history", help="Drift history, e.g. sqlite:///var/lib/edgefleet/drift.db: remembers since "
                      "when each pair is missing (across runs) and adds the trend to the report.")]
MinAgeOption = Annotated[str | None, typer.Option(
    "--min-age", help="Pairs missing for less than this are settling, not drift (e.g. 1h, 30m, 0s). "
                      "Default: the FleetConfig's driftReport.minAge (1h) with --history, 0s without.")]
ReportDirOption = Annotated[Path | None, typer.Option(
    "--report-dir", help="Also write drift-<time>.<ext> and latest.<ext> here, in every format of "
                         "the FleetConfig's driftReport.formats (default: all three).")]
WebhooksOption = Annotated[bool, typer.Option(
    "--webhooks", help="Also POST the report to the FleetConfig's driftReport.webhooks (URLs read "
                       "from their Secrets; needs a live cluster).")]


@app.command("drift", help=(
    "Report the drift of a fleet: which nodes lack which committed images, since when and why.\n\n"
    "The cluster is read live (--kubeconfig/--context) or from a file of `edgefleet snapshot` "
    "(--snapshot). Every desired (node, image) pair that is not present gets one reason "
    "(in-flight, deferred-offline, backing-off, failed, unknown-inventory, suspended-group, "
    "not-yet-planned, ...); the report counts them per group, site, image and reason, worst "
    "first, and lists the oldest pairs.\n\n"
    "Without --history a single run cannot know since when a pair is missing: ages count from "
    "now and every missing pair is drift (--min-age 0s). With --history the first time a pair "
    "was seen missing is kept across runs, pairs younger than --min-age are settling, and the "
    "report shows convergence over time and time to converge per revision.\n\n"
    "With --registry (as `plan --registry`) pairs the registry check holds back are "
    "not-in-registry or no-platform, and the report shows bytes to transfer per group and site.\n\n"
    "Exit codes: 0 no drift, 2 drift, 1 error (also when a --report-dir or --webhooks delivery "
    "failed)."
))
def drift_command(
    repo: RepoOption,
    rev: RevOption = None,
    path: PathOption = None,
    kubeconfig: KubeconfigOption = None,
    context: ContextOption = None,
    snapshot: SnapshotOption = None,
    max_age: MaxAgeOption = "24h",
    output: OutputOption = ReportFormat.markdown,
    out: OutFileOption = None,
    history: HistoryOption = None,
    min_age: MinAgeOption = None,
    report_dir: ReportDirOption = None,
    webhooks: WebhooksOption = False,
    registry: RegistryOption = False,
    insecure_registry: InsecureOption = None,
    docker_config: DockerConfigOption = None,
    registry_ca: RegistryCaOption = None,
) -> None:
    if snapshot is not None and (kubeconfig is not None or context is not None):
        fail("use either --snapshot or a cluster (--kubeconfig/--context), not both")
    if webhooks and snapshot is not None:
        fail("--webhooks reads the webhook URLs from Secrets: it needs a live cluster, not --snapshot")
    min_age_seconds = _min_age(min_age, history)
    lookup = open_registry(registry, insecure_registry, docker_config, registry_ca)
    if snapshot is None:  # live: the groups' pull secrets authenticate
        with_live_pull_secrets(lookup, kubeconfig, context)
    now = utc_now()
    try:
        files = open_fleet_source(repo, path).read(rev)
        fleet = _load(files.files)
        facts = (read_snapshot(snapshot, now=now, max_age=parse_max_age(max_age)) if snapshot is not None
                 else _observe(kubeconfig, context))
        if lookup is not None:  # holds per (node, image) and bytes per group/site (docs/registry.md)
            facts = replace(facts, registry=lookup(fleet))
        settings = drift_settings(fleet, min_age_seconds=min_age_seconds)
        if history is None:
            made = survey(fleet, facts, now=now, revision=files.revision, settings=settings)
        else:
            retention = fleet.drift_report.retention_days if fleet.drift_report is not None else 90
            made = _with_history(history, retention, fleet, facts, now=now, revision=files.revision,
                                 min_age_seconds=min_age_seconds)
        urls = _webhook_urls(fleet, kubeconfig, context) if webhooks else {}
    except (SourceError, KubeError, EmptyDesiredState, HistoryError) as error:
        fail(str(error))
    finally:
        if lookup is not None:
            lookup.close()
    report = made.report
    data = render(report, output.value)
    if out is None:
        typer.echo(data.decode(), nl=False)
    else:
        try:
            out.write_bytes(data)
        except OSError as error:
            fail(f"--out {out}: {error.strerror or error}")
        typer.echo(f"drift report ({output.value}) written to {out}", err=True)
    delivered = _deliver(fleet, made, report_dir, urls)
    typer.echo(headline(report), err=True)
    if not delivered:
        raise typer.Exit(EXIT_ERROR)
    raise typer.Exit(EXIT_DRIFT if report.drifting else EXIT_NO_DRIFT)


def _min_age(value: str | None, history: str | None) -> int | None:
    """Seconds of --min-age; without it and without history 0 (ages are unknown), else None
    (the FleetConfig's minAge)."""
    if value is None:
        return 0 if history is None else None
    try:
        return duration_seconds(value)
    except ValueError as error:
        fail(f"--min-age: {error}")


def _with_history(url: str, retention_days: int, fleet: Fleet, facts: ClusterFacts, *, now: datetime,
                  revision: str | None, min_age_seconds: int | None) -> Survey:
    with DriftHistory(url, retention=timedelta(days=retention_days)) as store:
        return survey_with_history(fleet, facts, store, now=now, revision=revision,
                                   settings=drift_settings(fleet, min_age_seconds=min_age_seconds))


def _observe(kubeconfig: Path | None, context: str | None) -> ClusterFacts:
    session = Session.from_kubeconfig(kubeconfig, context)
    try:
        return observe(session)
    finally:
        session.close()


def _webhook_urls(fleet: Fleet, kubeconfig: Path | None, context: str | None) -> dict[str, str]:
    spec = fleet.drift_report
    if spec is None or not spec.webhooks:
        fail("--webhooks: the FleetConfig has no spec.driftReport.webhooks")
    session = Session.from_kubeconfig(kubeconfig, context)
    try:
        return webhook_urls(session, spec.webhooks)
    finally:
        session.close()


def _deliver(fleet: Fleet, made: Survey, report_dir: Path | None, urls: dict[str, str]) -> bool:
    """Write the report directory and POST the webhooks; False when one of them failed (each
    failure is already logged on stderr, without a URL)."""
    spec = fleet.drift_report
    ok = True
    if report_dir is not None:
        formats = spec.formats if spec is not None else FORMATS
        written = write_report_files(report_dir, render_all(made.report, formats), made.report)
        if written.ok:
            typer.echo(f"drift report written to {report_dir}: "
                       f"{', '.join(sorted(p.name for p in written.paths))}", err=True)
        else:
            typer.echo(f"error: --report-dir {report_dir}: {written.error}", err=True)
            ok = False
    if urls and spec is not None:
        hooks = [Webhook(name=w.name, kind=w.kind, url=urls[w.name]) for w in spec.webhooks]
        for result in post_webhooks(hooks, made.report):
            if result.ok:
                typer.echo(f"drift report posted to {result.target} (attempt {result.attempts})", err=True)
            else:
                typer.echo(f"error: drift report not posted to {result.target}: {result.error}", err=True)
                ok = False
    return ok
