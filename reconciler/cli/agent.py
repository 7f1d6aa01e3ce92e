"""`edgefleet agent`: the edge inventory agent (reconciler/agent) as a command."""

from __future__ import annotations

import logging
import signal
import threading
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Annotated

import orjson
import typer

from reconciler.agent.connect import connect
from reconciler.agent.loop import log_round, poll_once, run_forever, summary
from reconciler.agent.runtime import DEFAULT_TIMEOUT, CriError, CriRuntime, choose_socket
from reconciler.agent.writer import InventoryWriter, node_identity
from reconciler.cli.app import app
from reconciler.cli.messages import fail
from reconciler.cli.run import parse_duration
from reconciler.controller.logs import LogFormat, configure_logging
from reconciler.kube.errors import KubeError
from reconciler.manifests.k8snames import dns1123_subdomain_problem

log = logging.getLogger("edgefleet.agent")


def _now() -> datetime:
    return datetime.now(UTC)


@app.command("agent", help=(
    "Run the edge inventory agent on a node: list the images of the node's container runtime "
    "through the CRI and write them to the node's EdgeNodeInventory as status.agent.\n\n"
    "Polls the runtime every --interval; writes only when the content changed, and at least "
    "every --resync (jittered) so that a silent agent shows. Every image tag and digest becomes "
    "a normalized reference (the manifests' rules); names that do not parse are skipped and "
    "counted. Reaches the API server through --server (edgecore's MetaServer, e.g. "
    "http://127.0.0.1:10550), --kubeconfig, or the in-cluster config.\n\n"
    "--once: poll, write if changed, print one summary line, exit. --dry-run: print the report "
    "JSON, write nothing (no API server needed). Exit 0 ok, 1 error (runtime or API server "
    "unreachable, write refused), 2 usage error."
))
def agent_command(
    node_name: Annotated[str, typer.Option(
        "--node-name", envvar="NODE_NAME",
        help="This node's name (default: $NODE_NAME, from the downward API spec.nodeName).")],
    cri_socket: Annotated[str | None, typer.Option(
        "--cri-socket", help="CRI socket (default: /run/containerd/containerd.sock, else "
        "/var/run/crio/crio.sock when only that exists).")] = None,
    kubeconfig: Annotated[Path | None, typer.Option("--kubeconfig", help="kubeconfig file.")] = None,
    server: Annotated[str | None, typer.Option(
        "--server", help="API server URL without credentials, e.g. edgecore's MetaServer "
        "http://127.0.0.1:10550.")] = None,
    interval: Annotated[str, typer.Option("--interval", help="Runtime poll period, e.g. 60s.")] = "60s",
    resync: Annotated[str, typer.Option(
        "--resync", help="Write an unchanged report again after this long (jittered +-10%).")] = "30m",
    timeout: Annotated[float, typer.Option(
        "--cri-timeout", help="Seconds each CRI call may take.")] = DEFAULT_TIMEOUT,
    once: Annotated[bool, typer.Option("--once", help="Poll once, write if changed, exit.")] = False,
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="Print the report as JSON; write nothing.")] = False,
    log_format: Annotated[str, typer.Option("--log-format", help="json or text.")] = "json",
    as_node: Annotated[bool, typer.Option(
        "--as-node", help="Act as the node's own identity, system:node:<node-name> (group "
        "system:nodes), by impersonation: the credentials need impersonate rights on that "
        "node only (docs/agent.md). Through MetaServer, cloudcore does this instead.")] = False,
) -> None:
    if log_format not in ("json", "text"):
        fail(f"--log-format {log_format!r}: expected json or text")
    fmt: LogFormat = "json" if log_format == "json" else "text"
    configure_logging(fmt)
    problem = dns1123_subdomain_problem(node_name) if node_name else "empty"
    if problem:
        fail(f"--node-name {node_name!r} is not a node name: {problem}", code=2)
    poll_seconds = parse_duration(interval, "--interval")
    resync_seconds = parse_duration(resync, "--resync")
    runtime = CriRuntime(choose_socket(cri_socket), timeout=timeout)
    try:
        if dry_run:
            result = poll_once(runtime.snapshot, None, _now())
            typer.echo(orjson.dumps(result.report.as_status(), option=orjson.OPT_INDENT_2).decode())
            return
        session = connect(kubeconfig, server, as_node=node_name if as_node else None)
        writer = InventoryWriter(session, node_name, resync=resync_seconds,
                                 identity=node_identity(node_name) if as_node else None)
        try:
            if once:
                writer.adopt_stored(_now())
                result = poll_once(runtime.snapshot, writer, _now())
                log_round(node_name, result)
                typer.echo(summary(node_name, result))
                return
            _serve(runtime, writer, poll_seconds)
        finally:
            session.close()
    except (CriError, KubeError) as error:
        fail(str(error))
    finally:
        runtime.close()


def _serve(runtime: CriRuntime, writer: InventoryWriter, interval: float) -> None:
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        log.info("received %s: stopping", signal.Signals(signum).name)
        stop.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    log.info("agent for node %s: polling %s every %gs", writer.node, runtime.socket, interval)
    try:
        run_forever(runtime.snapshot, writer, _now, stop.wait, interval)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
