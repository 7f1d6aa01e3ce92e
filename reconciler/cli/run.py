"""`edgefleet run`: the controller daemon (reconciler/controller) as a command."""

from __future__ import annotations

import logging
import re
import signal
import threading
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer

from reconciler.cli.app import app
from reconciler.cli.messages import fail
from reconciler.cli.registry_options import (
    DockerConfigOption,
    InsecureOption,
    RegistryCaOption,
    RegistryOption,
    open_registry,
    with_pull_secrets,
)
from reconciler.controller.daemon import Controller, ControllerSettings
from reconciler.controller.drift_schedule import DriftDaemonSettings
from reconciler.controller.http import parse_listen
from reconciler.controller.leader import LeaderTiming, default_identity
from reconciler.controller.logs import LogFormat, configure_logging
from reconciler.controller.webhook import read_secret
from reconciler.cycle import SyncSettings
from reconciler.drift.history import HistoryError, history_path
from reconciler.kube.crds import install_crds, read_crds
from reconciler.kube.errors import KubeError
from reconciler.kube.session import ClientSettings, Session

log = logging.getLogger("edgefleet.run")

_DURATION = re.compile(r"(\d+(?:\.\d+)?)(h|ms|m|s)")
_UNITS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}


def parse_duration(text: str, option: str) -> float:
    """`90`, `60s`, `10m`, `1h30m`, `500ms` -> seconds (> 0). Raises typer.BadParameter."""
    text = text.strip()
    if re.fullmatch(r"\d+(\.\d+)?", text):
        seconds = float(text)
    else:
        parts = _DURATION.findall(text)
        if not parts or "".join(n + u for n, u in parts) != text:
            raise typer.BadParameter(f"{text!r} is not a duration like 60s, 10m or 1h30m", param_hint=option)
        seconds = sum(float(n) * _UNITS[u] for n, u in parts)
    if seconds <= 0:
        raise typer.BadParameter("must be more than 0", param_hint=option)
    return seconds


@app.command("run", help=(
    "Run the controller: follow a branch of the fleet repository and keep the cluster converged "
    "with it.\n\n"
    "Fetches every --interval (with jitter) and on a signed push webhook (POST /hooks/git: "
    "GitHub, GitLab or Gitea, secret from --webhook-secret-file); watches Nodes, edgefleet's "
    "ImagePrePullJobs and EdgeNodeInventory objects; reconciles after every change that matters "
    "(debounced) and every --resync. A revision that fails to load keeps the last good one in "
    "force (logs, /metrics, /status say so). Only the holder of the Lease "
    "--lease-namespace/--lease-name writes, so several replicas are safe; with --shards N, "
    "each replica writes the groups of the shard Leases it holds. Serves /healthz, /readyz, "
    "/metrics and /status on --listen (and /snapshot with --snapshot-dir), and drift reports on a "
    "FleetConfig's spec.driftReport schedule at /reports (docs/drift.md).\n\n"
    "SIGTERM or Ctrl-C: finish the write in progress, release the Lease, exit 0. Exit 1: cannot "
    "start (kubeconfig, secret file, bad or busy --listen address). Exit 2: usage error (unknown "
    "option, a duration such as --interval that does not parse)."
))
def run_command(
    repo: Annotated[str, typer.Option("--repo", help="Fleet repository URL (or local path).")],
    branch: Annotated[str, typer.Option("--branch", help="Branch to follow.")] = "main",
    path: Annotated[str | None, typer.Option("--path", help="Fleet directory inside the repository.")] = None,
    interval: Annotated[str, typer.Option("--interval", help="Git poll period, e.g. 60s.")] = "60s",
    resync: Annotated[str, typer.Option("--resync", help="Full resync period, e.g. 10m.")] = "10m",
    kubeconfig: Annotated[Path | None, typer.Option("--kubeconfig", help="kubeconfig file.")] = None,
    context: Annotated[str | None, typer.Option("--context", help="kubeconfig context.")] = None,
    listen: Annotated[str, typer.Option(
        "--listen", help="HOST:PORT of the HTTP endpoints.")] = "127.0.0.1:8080",
    webhook_secret_file: Annotated[Path | None, typer.Option(
        "--webhook-secret-file", help="File holding the webhook secret (enables POST /hooks/git).")] = None,
    lease_name: Annotated[str, typer.Option(
        "--lease-name", help="Leader election Lease name.")] = "edgefleet",
    lease_namespace: Annotated[str, typer.Option(
        "--lease-namespace", help="Namespace of the Lease.")] = "default",
    log_format: Annotated[str, typer.Option("--log-format", help="json or text.")] = "text",
    install: Annotated[bool, typer.Option(
        "--install-crds", help="First install or update edgefleet's CRDs (deploy/crds/).")] = False,
    cache_dir: Annotated[Path | None, typer.Option(
        "--cache-dir", help="Where the repository is cloned (default: the user cache).")] = None,
    drift_history: Annotated[str | None, typer.Option(
        "--drift-history", help="Drift report history, e.g. sqlite:///var/lib/edgefleet/drift.db "
                                "(reports run on the FleetConfig's spec.driftReport.schedule).")] = None,
    report_dir: Annotated[Path | None, typer.Option(
        "--report-dir", help="Also write each drift report here (newest as latest.*).")] = None,
    snapshot_dir: Annotated[Path | None, typer.Option(
        "--snapshot-dir", help="Publish a fleet snapshot (as `edgefleet snapshot` writes it) in this "
        "directory every --snapshot-interval, served at /snapshot for CI.")] = None,
    snapshot_interval: Annotated[str, typer.Option(
        "--snapshot-interval", help="How often to publish the snapshot, e.g. 15m.")] = "15m",
    watch_cache: Annotated[bool, typer.Option(
        "--watch-cache/--no-watch-cache",
        help="Plan from the watch caches (an idle cycle sends nothing); off: list every cycle.")] = True,
    shards: Annotated[int, typer.Option(
        "--shards", min=1, max=64,
        help="Split the node groups over N shard Leases (<lease-name>-shard-0..N-1): each replica "
             "writes only the groups of the shards it holds (docs/controller.md, Sharding). "
             "1: one leader Lease.")] = 1,
    identity: Annotated[str | None, typer.Option(
        "--identity", help="This replica's name in the Leases and its User-Agent (default: "
                           "<hostname>_<random uuid>; e.g. the pod name).")] = None,
    write_concurrency: Annotated[int, typer.Option(
        "--write-concurrency", min=1, max=64,
        help="Inventory records written at once (one per node; the QPS limit still holds).")] = 8,
    lease_duration: Annotated[str, typer.Option("--lease-duration", hidden=True)] = "15s",
    renew_deadline: Annotated[str, typer.Option("--renew-deadline", hidden=True)] = "10s",
    retry_period: Annotated[str, typer.Option("--retry-period", hidden=True)] = "2s",
    registry: RegistryOption = False,
    insecure_registry: InsecureOption = None,
    docker_config: DockerConfigOption = None,
    registry_ca: RegistryCaOption = None,
) -> None:
    if log_format not in ("json", "text"):
        fail(f"--log-format {log_format!r}: expected json or text")
    fmt: LogFormat = "json" if log_format == "json" else "text"
    configure_logging(fmt)
    lookup = open_registry(registry, insecure_registry, docker_config, registry_ca)
    try:
        timing = LeaderTiming(parse_duration(lease_duration, "--lease-duration"),
                              parse_duration(renew_deadline, "--renew-deadline"),
                              parse_duration(retry_period, "--retry-period"))
        parse_listen(listen)  # a bad address is the user's, reported before anything starts
        if drift_history is not None:
            history_path(drift_history)  # so is a malformed history URL
        secret = read_secret(webhook_secret_file) if webhook_secret_file is not None else None
        settings = ControllerSettings(
            repo=repo, branch=branch, path=path, interval=parse_duration(interval, "--interval"),
            resync=parse_duration(resync, "--resync"), listen=listen, webhook_secret=secret,
            lease_name=lease_name, lease_namespace=lease_namespace, leader=timing, cache_dir=cache_dir,
            sync=SyncSettings(registry=lookup),  # one client for every cycle: its cache is shared
            drift=DriftDaemonSettings(history=drift_history, report_dir=report_dir, registry=lookup),
            snapshot_dir=snapshot_dir,
            snapshot_interval=parse_duration(snapshot_interval, "--snapshot-interval"),
            watch_cache=watch_cache, shards=shards, identity=identity or default_identity())
        session = Session.from_kubeconfig(kubeconfig, context,
                                          ClientSettings(write_concurrency=write_concurrency))
    except (ValueError, KubeError, HistoryError) as error:
        fail(str(error))
    with_pull_secrets(lookup, session)  # the groups' pull secrets authenticate --registry
    try:
        if install:
            for name in install_crds(session, read_crds()):
                log.info("installed CRD %s", name)
        controller = Controller(settings, session)
    except (KubeError, OSError, ValueError) as error:
        session.close()
        fail(f"cannot start: {error}")
    serve_until_signalled(controller)
    session.close()
    if lookup is not None:
        lookup.close()


def serve_until_signalled(controller: Controller) -> None:
    """Start `controller`, block until SIGTERM or SIGINT, then stop it gracefully."""
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        log.info("received %s: stopping after the write in progress", signal.Signals(signum).name)
        stop.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        controller.start()
        while not stop.wait(1.0):
            pass
    finally:
        controller.stop(release=True)
        for signum, handler in previous.items():
            signal.signal(signum, handler)
