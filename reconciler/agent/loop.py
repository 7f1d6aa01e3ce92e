"""The agent's shell: poll the runtime, build the report, hand it to the writer, repeat.

Time and waiting are injected (`now`, `wait`), so tests run resyncs without sleeping; `wait`
returns True when the agent should stop (a threading.Event's `wait` fits).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from reconciler.agent.report import AgentReport, build_report
from reconciler.agent.runtime import CriError, RuntimeSnapshot
from reconciler.agent.writer import InventoryWriter
from reconciler.kube.errors import KubeError

log = logging.getLogger("edgefleet.agent")


@dataclass(frozen=True, slots=True)
class Round:
    """One poll: the report, and why it was written (None: unchanged, not written)."""

    report: AgentReport
    written: str | None


def poll_once(snapshot: Callable[[], RuntimeSnapshot], writer: InventoryWriter | None,
              now: datetime) -> Round:
    """Read the runtime, build the report at `now`, write it when due (never with no writer).

    Raises CriError or KubeError (one line each)."""
    taken = snapshot()
    report = build_report(taken.images, taken.image_fs, taken.runtime, now)
    for skipped in report.skipped:
        log.warning("skipped a runtime image name that is not a valid reference: %s", skipped)
    written = writer.offer(report, now) if writer is not None else None
    return Round(report, written)


def run_forever(snapshot: Callable[[], RuntimeSnapshot], writer: InventoryWriter,
                now: Callable[[], datetime], wait: Callable[[float], bool], interval: float) -> None:
    """Poll every `interval` seconds until `wait` says stop. A failed poll or write is logged
    and retried at the next poll (the previous report stays in force on the API server)."""
    try:
        writer.adopt_stored(now())
    except KubeError as error:
        log.warning("cannot read the stored inventory (writing anew): %s", error)
    while True:
        try:
            result = poll_once(snapshot, writer, now())
            log_round(writer.node, result)
        except (CriError, KubeError) as error:
            log.error("agent poll failed, retrying in %gs: %s", interval, error,
                      extra={"node": writer.node})
        if wait(interval):
            return


def log_round(node: str, result: Round) -> None:
    """One log line per poll that wrote; debug when nothing changed."""
    report = result.report
    fields = {"node": node, "images": len(report.images), "skippedRefs": report.skipped_refs,
              "contentHash": report.content_hash, "reason": result.written}
    if result.written is None:
        log.debug("inventory of %s unchanged (%d references)", node, len(report.images), extra=fields)
    else:
        log.info("wrote inventory of %s (%s): %d references", node, result.written,
                 len(report.images), extra=fields)


def summary(node: str, result: Round) -> str:
    """The one line `edgefleet agent --once` prints."""
    report = result.report
    what = "written" if result.written else "unchanged, not written"
    refs = "reference" if len(report.images) == 1 else "references"
    skipped = f", {report.skipped_refs} skipped" if report.skipped_refs else ""
    return (f"{node}: {len(report.images)} image {refs}{skipped} from {report.runtime.name} "
            f"{report.runtime.version}; inventory {what} ({report.content_hash[:19]})")
