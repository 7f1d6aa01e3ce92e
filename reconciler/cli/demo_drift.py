"""The demo's last step: a drift report of the fleet as the controller left it.

The controller's drift job (the one `edgefleet run` schedules) runs once after the first
convergence, so it remembers since when each pair is missing, and once at the end; the end
report is written in every format to a directory that outlives the demo, and the demo says
where it is and what it found.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from rich.console import Console

from reconciler.controller.daemon import Controller
from reconciler.drift.delivery import write_report_files
from reconciler.drift.formats import FORMATS, render_all
from reconciler.drift.wording import headline, top_reasons


def report_directory() -> Path:
    """Where the demo leaves its drift report (kept after the demo's own files are removed)."""
    return Path(tempfile.gettempdir()) / "edgefleet-drift-report"


def drift_checkpoint(controller: Controller) -> None:
    """Run the drift job once, so the final report knows since when each pair is missing."""
    controller.drift.run()


def report_drift(controller: Controller, console: Console, directory: Path) -> Path | None:
    """Run the drift job, write its report to `directory` and say where; the HTML page's path
    (None when no report could be made, which the demo reports and survives)."""
    made = controller.drift.run()
    if made is None:
        console.print("drift report: none could be made (see the log above)", highlight=False)
        return None
    written = write_report_files(directory, render_all(made.report, FORMATS), made.report)
    if not written.ok:
        console.print(f"drift report not written to {directory}: {written.error}", highlight=False)
        return None
    reasons = {a.key: a.pairs for a in made.report.aggregates.reasons}
    page = directory / "latest.html"
    console.print(f"drift report: {headline(made.report)}"
                  + (f" Reasons: {top_reasons(reasons, 4)}." if reasons else ""), highlight=False)
    console.print(f"drift report written to {page} (also latest.md and latest.json there)",
                  highlight=False)
    return page
