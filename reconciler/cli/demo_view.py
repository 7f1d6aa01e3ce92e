"""What `edgefleet demo` shows: a live Rich view on a terminal, plain periodic lines elsewhere,
and the closing summary. Reads only the controller's published snapshots."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from reconciler.controller.view import ControllerSnapshot, CycleView, GroupView, NodeNote

#: Deferred nodes and failing nodes the closing summary names one by one.
SUMMARY_ROWS = 5


@dataclass
class DemoStatus:
    """What the demo is doing, for the header of the view."""

    phase: str = "starting"
    nodes: int = 0
    speed: float = 1.0
    status_url: str = ""
    started: float = field(default_factory=time.monotonic)
    sim_now: datetime | None = None


def _short(revision: str | None) -> str:
    return revision[:12] if revision else "none"


def _state(group: GroupView) -> Text:
    style = "red" if group.failed and group.phase == "converged" else {
        "suspended": "dim", "converging": "yellow", "retrying": "yellow"}.get(group.phase, "green")
    return Text(group.state, style=style)


def groups_table(view: CycleView | None, *, title: str | None = None) -> Table:
    """One row per group: a bar of present out of desired pairs, then the other counts."""
    table = Table(title=title, expand=False, title_justify="left")
    table.add_column("Group", style="bold")
    table.add_column("Present pairs", min_width=30, no_wrap=True)
    table.add_column("Present/desired", justify="right", no_wrap=True)
    table.add_column("In flight", justify="right", no_wrap=True)
    table.add_column("Retrying", justify="right", no_wrap=True)
    table.add_column("Failed", justify="right", no_wrap=True)
    table.add_column("Deferred", justify="right", no_wrap=True)
    table.add_column("State", no_wrap=True)
    for group in view.groups if view is not None else ():
        bar = ProgressBar(total=max(group.desired, 1), completed=group.present, width=28)
        table.add_row(group.name, bar, f"{group.present:,} / {group.desired:,}", f"{group.in_flight:,}",
                      f"{group.backing_off:,}", f"{group.failed:,}", f"{group.deferred_nodes:,}",
                      _state(group))
    return table


def render(snapshot: ControllerSnapshot, status: DemoStatus) -> RenderableType:
    """The whole live view for one moment."""
    view = snapshot.last
    elapsed = time.monotonic() - status.started
    sim = status.sim_now.strftime("%H:%M") if status.sim_now else "--:--"
    header = Text.assemble(
        ("edgefleet demo", "bold"), f"  {status.nodes} edge nodes, simulated clock {sim} "
        f"(x{status.speed:g}), {elapsed:.0f} s elapsed\n",
        ("phase: ", "dim"), status.phase, "\n",
        ("revision in force: ", "dim"), _short(view.revision_in_force if view else None),
        ("   jobs in flight: ", "dim"), str(len(view.jobs_in_flight) if view else 0),
        ("   last cycle: ", "dim"), (view.outcome if view else "none"),
        ("   status page: ", "dim"), status.status_url,
    )
    return Group(header, groups_table(view))


def plain_line(snapshot: ControllerSnapshot, status: DemoStatus) -> str:
    """One line for logs and CI: phase, then present/desired per group."""
    view = snapshot.last
    elapsed = time.monotonic() - status.started
    groups = ", ".join(f"{g.name} {g.present}/{g.desired}" + ("" if g.converged else "*")
                       for g in (view.groups if view else ()))
    jobs = len(view.jobs_in_flight) if view else 0
    return f"[{elapsed:5.1f}s] {status.phase}: {groups or 'no cycle yet'}; {jobs} jobs in flight"


class LiveDisplay:
    """A Rich Live view on a terminal; on anything else, a plain line every `every` seconds and
    whenever the phase changes (so that no numbered step goes unseen, however short)."""

    def __init__(self, console: Console, status: DemoStatus, *, every: float = 5.0) -> None:
        self.console, self.status, self._every = console, status, every
        self._live: Live | None = None
        self._last_line = 0.0
        self._last_phase: str | None = None

    def __enter__(self) -> LiveDisplay:
        if self.console.is_terminal:
            self._live = Live(console=self.console, refresh_per_second=4, transient=True)
            self._live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.__exit__(None, None, None)
            self._live = None

    def update(self, snapshot: ControllerSnapshot, *, force: bool = False) -> None:
        """Show `snapshot` (plain mode: at most one line per `every` seconds unless `force` or
        the phase changed)."""
        if self._live is not None:
            self._live.update(render(snapshot, self.status))
            return
        now = time.monotonic()
        new_phase = self.status.phase != self._last_phase
        if force or new_phase or now - self._last_line >= self._every:
            self._last_line, self._last_phase = now, self.status.phase
            self.console.print(plain_line(snapshot, self.status), highlight=False, soft_wrap=True)


def summary(console: Console, snapshot: ControllerSnapshot, *, phases: list[tuple[str, float, bool]],
            status_url: str) -> None:
    """The closing report: per group counts, the phases and how long each took, where to look."""
    view = snapshot.last
    console.print()
    console.print(groups_table(view, title="Fleet at the end of the demo"))
    for name, seconds, converged in phases:
        mark = "[green]converged[/]" if converged else "[red]did not converge[/]"
        console.print(f"  {name}: {mark} after {seconds:.1f} s")
    if view is not None:
        console.print(f"  revision in force: {_short(view.revision_in_force)}; "
                      f"{len(view.deferred)} node(s) deferred (not Ready), "
                      f"{len(view.failing)} pair(s) failed for good, reported not waited for")
        _listed(console, [f"deferred {note.node}: {note.reason}" for note in view.deferred],
                "deferred node(s)")
        failing: dict[str, list[NodeNote]] = {}
        for note in view.failing:
            failing.setdefault(note.node, []).append(note)
        _listed(console, [f"failed   {node}: {len(notes)} image(s), {notes[0].reason} "
                          f"({notes[0].attempts} attempts)" for node, notes in failing.items()],
                "node(s) with failed pairs")
    console.print(f"  the controller's /status page was at {status_url} while the demo ran")


def _listed(console: Console, lines: list[str], what: str) -> None:
    """The first SUMMARY_ROWS of `lines`, then how many more there are: what the summary
    lists always adds up to the count it gives."""
    for line in lines[:SUMMARY_ROWS]:
        console.print(f"    {line}", highlight=False)
    if len(lines) > SUMMARY_ROWS:
        console.print(f"    and {len(lines) - SUMMARY_ROWS} more {what}", highlight=False)
