"""`edgefleet demo`: the whole product on the embedded cluster, unattended, in a minute or two.

A seeded fleet (a few hundred edge nodes over several sites; some offline, one that never
answers, one on a slow link) runs on simulated KubeEdge with a clock where an hour passes in a
minute. `fleet-examples/` is committed to a temporary repository served by `git daemon`, and
the controller (the same code as `edgefleet run`, in threads) converges the fleet. Then the
demo commits an image bump, pushes it, signs a webhook, and watches the controller converge
again. Everything it started is stopped and every temporary file removed, also on Ctrl-C.
"""

from __future__ import annotations

import logging
import secrets
import shutil
import signal
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer
from rich.console import Console
from rich.logging import RichHandler

from reconciler.cli.app import app
from reconciler.cli.demo_change import find_bump, send_push_webhook
from reconciler.cli.demo_drift import drift_checkpoint, report_directory, report_drift
from reconciler.cli.demo_eviction import evict_and_repull
from reconciler.cli.demo_git import GitError, ServedFleetRepository
from reconciler.cli.demo_registry import registry_step
from reconciler.cli.demo_rollout import RolloutDemo, rollout_steps
from reconciler.cli.demo_view import DemoStatus, LiveDisplay, summary
from reconciler.cli.messages import fail
from reconciler.controller.daemon import Controller, ControllerSettings
from reconciler.controller.drift_schedule import DriftDaemonSettings
from reconciler.controller.queue import QueueTiming
from reconciler.controller.view import ControllerSnapshot
from reconciler.cycle import SyncSettings
from reconciler.kube.errors import KubeError
from reconciler.kube.session import Session
from reconciler.planner import PlannerSettings
from reconciler.sim.cluster import EmbeddedCluster
from reconciler.sim.fleet_setup import edgefleet_cluster, pull_secrets_of
from reconciler.sim.kubeedge.edge import Behaviour
from reconciler.sim.kubeedge.fleetgen import FleetOptions

FLEET_EXAMPLES = Path(__file__).resolve().parents[2] / "fleet-examples"
#: Simulated seconds per real second: an hour of fleet life in a minute (two with --short).
SPEED = 60.0
SHORT_SPEED = 120.0
#: Link of the one deliberately slow node (bytes/s, 4 Mbit/s against the usual 20 to 200):
#: its pulls take several simulated minutes, within the jobs' timeouts.
SLOW_LINK = 500_000.0

log = logging.getLogger("edgefleet.demo")


@dataclass(frozen=True, slots=True)
class DemoSettings:
    """How big and how long: `timeout` bounds the whole run (the first convergence gets 60 %)."""

    nodes: int
    seed: int
    timeout: float
    short: bool

    @property
    def speed(self) -> float:
        return SHORT_SPEED if self.short else SPEED


def _planner() -> PlannerSettings:
    # An hour passes in a minute, so retries back off in simulated minutes and give up after
    # two attempts: a node that keeps failing is reported within the demo, not waited for.
    return PlannerSettings(backoff_base=timedelta(minutes=1), backoff_cap=timedelta(minutes=4),
                           attempt_limit=2)


def _fleet_options(settings: DemoSettings) -> FleetOptions:
    return FleetOptions(nodes=settings.nodes, seed=settings.seed, offline=0.03, flapping=0.01,
                        silent=0.0, slow=0.0)


def _characters(cluster: EmbeddedCluster, sites: tuple[str, ...]) -> tuple[str, str]:
    """Make one answering node silent (it never answers, kubeedge#7049) and one slow; returns
    their names. The silent one sits in the first site (a factory: short job timeouts, so its
    failure is visible soon), the slow one in the third (a shop: small images)."""
    online = cluster.edge_names(Behaviour.ONLINE)

    def pick(site: str, fallback: int) -> str:
        return next((n for n in online if n.startswith(f"{site}-")), online[fallback])

    silent = pick(sites[0], 0)
    slow = pick(sites[2 % len(sites)], -1)
    cluster.nodes[silent].set_behaviour(Behaviour.SILENT)
    cluster.nodes[slow].set_link(SLOW_LINK)
    return silent, slow


def _wait(controller: Controller, display: LiveDisplay, status: DemoStatus, cluster: EmbeddedCluster,
          done: Callable[[ControllerSnapshot], bool], deadline: float) -> bool:
    while time.monotonic() < deadline:
        snapshot = controller.state.snapshot()
        status.sim_now = cluster.clock.now()
        display.update(snapshot)
        if done(snapshot):
            display.update(snapshot, force=True)
            return True
        controller.wait_for_cycle(lambda: False, 0.25)
    display.update(controller.state.snapshot(), force=True)
    return False


def _eviction_step(cluster: EmbeddedCluster, controller: Controller, display: LiveDisplay,
                   status: DemoStatus) -> tuple[str, float, bool]:
    """Step 4 (demo_eviction.py): edge image GC evicts an image; the agent reports, edgefleet re-pulls."""
    def set_phase(phase: str) -> None:
        status.phase = phase

    return evict_and_repull(cluster, set_phase, lambda done, deadline: _wait(
        controller, display, status, cluster, done, deadline), step=4)


def run_demo(settings: DemoSettings, console: Console) -> int:
    """Run the demo; returns the exit code (0: converged after the change, 1: it did not)."""
    started = time.monotonic()
    status = DemoStatus(nodes=settings.nodes, speed=settings.speed, started=started)
    with ExitStack() as cleanup:
        tmp = Path(tempfile.mkdtemp(prefix="edgefleet-demo-"))
        cleanup.callback(shutil.rmtree, tmp, ignore_errors=True)
        status.phase = "starting the embedded cluster"
        cluster = cleanup.enter_context(edgefleet_cluster(
            tmp / "kubeconfig", pull_secrets=pull_secrets_of(FLEET_EXAMPLES), nodes=settings.nodes,
            speed=settings.speed, seed=settings.seed, fleet=_fleet_options(settings), agents=1.0,
            registry_port=0))
        silent, slow = _characters(cluster, _fleet_options(settings).sites)
        session = Session.from_kubeconfig(tmp / "kubeconfig")
        cleanup.callback(session.close)
        repo = cleanup.enter_context(ServedFleetRepository(tmp / "git", FLEET_EXAMPLES))
        secret = secrets.token_bytes(24)  # only this process knows it
        controller = Controller(ControllerSettings(
            repo=repo.url, interval=10.0, resync=5.0, listen="127.0.0.1:0", webhook_secret=secret,
            cache_dir=tmp / "cache", queue=QueueTiming(debounce=0.3, max_delay=2.0),
            sync=SyncSettings(planner=_planner()), clock_speed=settings.speed,
            drift=DriftDaemonSettings(min_age_seconds=0)), session,
            now=cluster.clock.now)
        cleanup.callback(controller.stop)
        controller.start()
        status.status_url = f"{controller.url}/status"
        offline = len(cluster.edge_names(Behaviour.OFFLINE)) + len(cluster.edge_names(Behaviour.FLAPPING))
        console.print(f"embedded cluster at {cluster.url}: {settings.nodes} edge nodes, {offline} offline "
                      f"or flapping, {silent} never answers, {slow} on a slow link; fleet repository "
                      f"{repo.url}; controller status page {status.status_url}", highlight=False)
        phases: list[tuple[str, float, bool]] = []
        with LiveDisplay(console, status) as display:
            status.phase = "1. converging the fleet to the example repository"
            first_deadline = started + 0.6 * settings.timeout
            converged = _wait(controller, display, status, cluster,
                              lambda s: s.last is not None and s.last.converged, first_deadline)
            phases.append(("first convergence", time.monotonic() - started, converged))
            drift_checkpoint(controller)
            if console.is_terminal:  # a moment for a person to look at the converged fleet
                status.phase = "1. done: committing an image bump in a moment"
                display.update(controller.state.snapshot(), force=True)
                time.sleep(2.0)
            bump = find_bump(repo.work)
            revision = repo.commit(bump.path, bump.content,
                                   f"{bump.group}: bump {bump.old.rpartition('/')[2]} to {bump.new}")
            repo.push()
            status.phase = f"2. pushed {revision[:12]} ({bump.group}: {bump.old} -> {bump.new})"
            code = send_push_webhook(controller.url, secret, branch="main", revision=revision)
            log.info("signed push webhook sent: HTTP %d", code)
            changed = time.monotonic()

            def after_push(snapshot: ControllerSnapshot) -> bool:
                last = snapshot.last
                if last is None or last.revision_in_force != revision:
                    return False
                if status.phase.startswith("2. pushed"):
                    status.phase = (f"3. the controller applied {revision[:12]} "
                                    f"{time.monotonic() - changed:.1f} s after the push; converging")
                    log.info("the controller picked up %s %.1f s after the push", revision[:12],
                             time.monotonic() - changed)
                return last.converged

            converged = _wait(controller, display, status, cluster, after_push, started + settings.timeout)
            phases.append((f"convergence after the push of {revision[:12]}", time.monotonic() - changed,
                           converged))
            if converged:
                phases.append(_eviction_step(cluster, controller, display, status))
            if phases[-1][2]:  # docs/rollout.md: a rollout in two waves, then a halt on its failure budget
                phases += rollout_steps(RolloutDemo(
                    repo, controller.url, secret, session, cluster.catalogue, status,
                    lambda done, until: _wait(controller, display, status, cluster, done, until)),
                    first=5, budget=40.0)
            if phases[-1][2]:  # docs/registry.md: plan --registry against the simulated registry
                status.phase = f"7. plan --registry against the simulated registry {cluster.registry_host}"
                display.update(controller.state.snapshot(), force=True)
                phases.append(registry_step(session, cluster.registry_host))
        summary(console, controller.state.snapshot(), phases=phases, status_url=status.status_url)
        report_drift(controller, console, report_directory())
        status.phase = "cleaning up"
    ok = phases[-1][2]
    console.print(f"demo {'converged' if ok else 'did not converge'} in {time.monotonic() - started:.0f} s; "
                  "every process and temporary file is cleaned up", highlight=False)
    return 0 if ok else 1


def _quiet_logging(console: Console) -> None:
    # Show what a person follows (jobs created, git, webhooks), not every cycle's bookkeeping.
    handler: logging.Handler = RichHandler(console=console, show_path=False) if console.is_terminal \
        else logging.StreamHandler(console.file)
    if not console.is_terminal:
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s: %(message)s", "%H:%M:%S"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    for noisy in ("edgefleet.controller", "edgefleet.watch", "edgefleet.leader", "apscheduler",
                  "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


@app.command("demo", help=(
    "Run the whole product on the embedded cluster, unattended (about one to two minutes): a "
    "seeded fleet of edge nodes converges to fleet-examples/ served by git daemon, then an image "
    "bump is committed, pushed and announced by a signed webhook, and the fleet converges again."
    "\n\nExit codes: 0 converged after the change, 1 it did not within --timeout (or could not "
    "start), 130 interrupted (Ctrl-C), 143 terminated (SIGTERM); either way everything the demo "
    "started is stopped and its temporary files removed."
))
def demo_command(
    short: Annotated[bool, typer.Option("--short", help="A small fleet and short time limits "
                                        "(the test suite's mode).")] = False,
    nodes: Annotated[int | None, typer.Option("--nodes", min=10, max=5000,
                                              help="Edge nodes (default 300; 40 with --short).")] = None,
    seed: Annotated[int, typer.Option("--seed", help="Fleet generation seed.")] = 7,
    timeout: Annotated[float | None, typer.Option(
        "--timeout", min=10, help="Give up after this many seconds (default 150; 50 with --short).")] = None,
) -> None:
    console = Console()
    if not console.is_terminal:
        console = Console(width=150)  # CI logs: no wrapping of the summary table
    settings = DemoSettings(nodes=nodes or (40 if short else 300), seed=seed,
                            timeout=timeout or (50.0 if short else 150.0), short=short)
    _quiet_logging(Console(stderr=True) if not console.is_terminal else console)
    terminated = Terminated()
    previous = signal.signal(signal.SIGTERM, terminated.on_sigterm)
    try:
        code = run_demo(settings, console)
    except (GitError, KubeError, LookupError, OSError, RuntimeError) as error:
        fail(f"the demo could not run: {error}")
    except KeyboardInterrupt:
        console.print(f"{'terminated' if terminated.by_sigterm else 'interrupted'}: stopped the "
                      "controller, git daemon and cluster; removed temporary files")
        code = 128 + (signal.SIGTERM if terminated.by_sigterm else signal.SIGINT)
    finally:
        signal.signal(signal.SIGTERM, previous)
    raise typer.Exit(code)


class Terminated:
    """Turns the first SIGTERM into a KeyboardInterrupt, so `kill` cleans up as Ctrl-C does
    (every ExitStack callback of the demo runs); later ones are ignored while it cleans up."""

    def __init__(self) -> None:
        self.by_sigterm = False

    def on_sigterm(self, signum: int, frame: FrameType | None) -> None:
        if self.by_sigterm:
            return
        self.by_sigterm = True
        raise KeyboardInterrupt
