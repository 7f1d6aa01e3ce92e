"""`edgefleet rollout status|pause|resume`: see and steer the rollouts edgefleet keeps in
FleetRollout objects (docs/rollout.md). Only wiring: the kube adapter reads and patches."""

from __future__ import annotations

from typing import Annotated

import orjson
import typer
from rich.console import Console
from rich.table import Table

from reconciler.cli.app import app
from reconciler.cli.messages import fail
from reconciler.cli.plan import ContextOption, KubeconfigOption
from reconciler.kube.errors import KubeError
from reconciler.kube.rollouts import patch_rollout, read_rollout, read_rollouts
from reconciler.kube.session import Session
from reconciler.observed.rollouts import RolloutFacts

rollout_app = typer.Typer(
    help=("See and steer rollouts: waves with a failure budget, maintenance windows and per-site "
          "bandwidth (docs/rollout.md). Progress lives in FleetRollout objects "
          "(`kubectl get fleetrollouts`)."),
    no_args_is_help=True,
)
app.add_typer(rollout_app, name="rollout")

GroupArgument = Annotated[str, typer.Argument(help="The NodeGroupImages name.")]
DryRunOption = Annotated[bool, typer.Option("--dry-run", help="Say what would change; write nothing.")]


def _session(kubeconfig: KubeconfigOption, context: ContextOption) -> Session:
    try:
        return Session.from_kubeconfig(kubeconfig, context)
    except KubeError as error:
        fail(str(error))


def _row(rollout: RolloutFacts) -> list[str]:
    s = rollout.status
    waves = f"{s.wave} of {s.waves - 1}" if s.waves else "-"
    state = "paused" if rollout.spec.paused else ("halted" if s.halted else "")
    return [rollout.group, waves, f"{s.nodes_done}/{s.nodes_failed}/{s.nodes_total}",
            f"{s.budget_used} of {s.failure_budget}" if s.failure_budget else "-", state,
            s.next_step, s.next_at or "-"]


@rollout_app.command("status", help=(
    "A table of every rollout (or GROUP's): open wave, done/failed/total nodes of the open "
    "waves, failure budget used, and the next step with its time. -o json prints the "
    "FleetRollout statuses. Exit codes: 0 ok, 1 error (no such rollout, cluster unreachable)."))
def status_command(group: Annotated[str | None, typer.Argument(help="Only this group.")] = None,
                   output: Annotated[str, typer.Option("-o", "--output", help="table or json.")] = "table",
                   kubeconfig: KubeconfigOption = None, context: ContextOption = None) -> None:
    session = _session(kubeconfig, context)
    try:
        rollouts = read_rollouts(session)
    except KubeError as error:
        fail(str(error))
    if group is not None:
        if group not in rollouts:
            fail(f"group {group!r} has no rollout yet (no FleetRollout {group!r}); a group gets one "
                 "once it has rollout, windows or bandwidth and edgefleet has synced it")
        rollouts = {group: rollouts[group]}
    if output == "json":
        typer.echo(orjson.dumps({g: {"paused": r.spec.paused, **r.raw_status}
                                 for g, r in sorted(rollouts.items())}, option=orjson.OPT_INDENT_2))
        return
    table = Table("GROUP", "WAVE", "DONE/FAILED/TOTAL", "BUDGET USED", "STATE", "NEXT", "AT")
    for _, rollout in sorted(rollouts.items()):
        table.add_row(*_row(rollout))
    Console(width=160).print(table)


@rollout_app.command("pause", help=(
    "Pause GROUP's rollout: no new pulls and no new wave until `rollout resume` (running jobs "
    "finish). Sets FleetRollout spec.paused. Exit codes: 0 ok, 1 error."))
def pause_command(group: GroupArgument, dry_run: DryRunOption = False,
                  kubeconfig: KubeconfigOption = None, context: ContextOption = None) -> None:
    session = _session(kubeconfig, context)
    try:
        patch_rollout(session, group, spec={"group": group, "paused": True}, dry_run=dry_run)
    except KubeError as error:
        fail(str(error))
    typer.echo(f"rollout of {group} paused{' (dry run)' if dry_run else ''}: no new pulls until "
               "`edgefleet rollout resume`")


@rollout_app.command("resume", help=(
    "Resume GROUP's rollout: clears a pause, and a halt by the failure budget (the nodes that "
    "failed so far are accepted: only new failures count against the budget). The next sync "
    "continues the open wave. Exit codes: 0 ok, 1 error (no such rollout)."))
def resume_command(group: GroupArgument, dry_run: DryRunOption = False,
                   kubeconfig: KubeconfigOption = None, context: ContextOption = None) -> None:
    session = _session(kubeconfig, context)
    try:
        current = read_rollout(session, group)
        if current is None:
            fail(f"group {group!r} has no rollout (no FleetRollout {group!r})")
        halted = current.status.halted
        status = {"halted": "", "acceptedFailures": current.status.nodes_failed} if halted else None
        patch_rollout(session, group, spec={"group": group, "paused": False}, status=status,
                      dry_run=dry_run)
    except KubeError as error:
        fail(str(error))
    what = (f"halt cleared ({current.status.nodes_failed} failed nodes accepted)" if halted
            else "resumed")
    typer.echo(f"rollout of {group}: {what}{' (dry run)' if dry_run else ''}")
