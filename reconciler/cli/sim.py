"""`edgefleet sim serve`: run the embedded KubeEdge cluster standalone until Ctrl-C/SIGTERM.

Exit codes: 0 stopped by Ctrl-C or SIGTERM, 2 bad arguments (or the port is taken).
"""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer

from reconciler.cli.app import app
from reconciler.sim.cluster import SUPPORTED_KUBEEDGE, EmbeddedCluster

sim_app = typer.Typer(name="sim", help="The embedded cluster: a Kubernetes API server emulator "
                      "with simulated KubeEdge and edge nodes.", no_args_is_help=True)
app.add_typer(sim_app)

EXIT_STOPPED, EXIT_USAGE = 0, 2


def agent_share(text: str) -> float | None:
    """`none` 0, `all` 1, `30%` (or `30`) 0.3; None when it is none of these."""
    word = text.strip().lower()
    if word in ("none", "all"):
        return 0.0 if word == "none" else 1.0
    try:
        percent = float(word.removesuffix("%"))
    except ValueError:
        return None
    return percent / 100 if 0 <= percent <= 100 else None


@sim_app.command("serve")
def serve(
    nodes: Annotated[int, typer.Option(help="Edge nodes to simulate.", min=0)] = 50,
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1 (0: any free port).", min=0,
                                      max=65535)] = 0,
    kubeconfig_out: Annotated[Path, typer.Option(
        help="Where to write the kubeconfig for kubectl and edgefleet.")] = Path("sim.kubeconfig"),
    kubeedge: Annotated[str, typer.Option(
        help="KubeEdge release to behave like: 1.21 (v1alpha2) or 1.16 (v1alpha1).")] = "1.21",
    speed: Annotated[float, typer.Option(help="Simulated seconds per real second.", min=0.001)] = 1.0,
    seed: Annotated[int, typer.Option(help="Fleet generation seed.")] = 0,
    image_cap: Annotated[int, typer.Option(
        help="nodeStatusMaxImages: images each node reports in status.images "
             "(0 none, as KubeEdge by default; -1 all).", min=-1)] = 0,
    pull_secret: Annotated[list[str] | None, typer.Option(
        help="namespace/name of a registry secret to pre-create (repeatable).")] = None,
    agents: Annotated[str, typer.Option(
        help="Edge nodes running the edge inventory agent, which writes status.agent of their "
             "EdgeNodeInventory (docs/agent.md): none, all, or a percentage such as 30%.")] = "all",
    registry_port: Annotated[int, typer.Option(
        help="Port on 127.0.0.1 of the simulated registry, which serves the image catalogue over "
             "the OCI distribution API, plain HTTP (0: any free port; -1: no registry). "
             "docs/registry.md.", min=-1, max=65535)] = 0,
) -> None:
    """Serve a simulated KubeEdge cluster and print how to use it with kubectl."""
    if kubeedge not in SUPPORTED_KUBEEDGE:
        typer.echo(f"error: --kubeedge must be one of {', '.join(SUPPORTED_KUBEEDGE)}, "
                   f"not {kubeedge!r}", err=True)
        raise typer.Exit(EXIT_USAGE)
    share = agent_share(agents)
    if share is None:
        typer.echo(f"error: --agents must be none, all or a percentage from 0% to 100%, not {agents!r}",
                   err=True)
        raise typer.Exit(EXIT_USAGE)
    try:
        cluster = EmbeddedCluster(nodes=nodes, kubeedge=kubeedge, speed=speed, seed=seed,
                                  image_cap=image_cap, port=port, agents=share,
                                  registry_port=None if registry_port < 0 else registry_port)
        for ref in pull_secret or []:
            cluster.add_pull_secret(ref)
        cluster.start()
    except (OSError, ValueError) as exc:
        typer.echo(f"error: cannot start the embedded cluster: {exc}", err=True)
        raise typer.Exit(EXIT_USAGE) from None
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = signal.signal(signal.SIGTERM, on_signal)
    try:
        path = cluster.write_kubeconfig(kubeconfig_out)
        typer.echo(f"embedded KubeEdge {kubeedge} cluster at {cluster.url}: {nodes} edge nodes, "
                   f"{len(cluster.control_plane)} control-plane nodes, clock x{speed:g}, "
                   f"{len(cluster.agents.nodes)} edge inventory agents")
        typer.echo(f"kubeconfig written to {path}")
        if cluster.registry is not None:
            typer.echo(f"simulated registry at {cluster.registry_host} (plain HTTP): e.g. "
                       f"{cluster.registry_host}/vision/inspector:2.5.0 (amd64 only)")
        typer.echo("try:")
        typer.echo(f"  kubectl --kubeconfig {path} get nodes")
        typer.echo(f"  kubectl --kubeconfig {path} get imageprepulljobs -o yaml")
        if cluster.agents.nodes:
            typer.echo(f"  kubectl --kubeconfig {path} get edgenodeinventories -o yaml")
        if cluster.registry is not None:
            typer.echo(f"  skopeo inspect --tls-verify=false docker://{cluster.registry_host}/library/nginx:1.27")
        typer.echo("stop with Ctrl-C", err=True)
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        cluster.stop()
    raise typer.Exit(EXIT_STOPPED)
