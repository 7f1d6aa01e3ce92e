"""Scheduled drift reports in the daemon: an APScheduler cron job on FleetConfig spec.driftReport.

After every cycle the daemon hands over what the cycle already has (the revision in force, its
fleet and the facts it observed); when the revision's `driftReport` changes, the cron job is
(re)scheduled with its schedule and time zone. When the job fires, only the Lease holder makes
the report, from the last cycle's facts: survey with the SQLite history (missingSince across
restarts, the trend), files in the report directory, the newest kept for `/reports/latest.*`,
webhooks (URLs read from their Secrets, never logged) and the metrics. The job runs on
APScheduler's thread, never the reconcile worker's, so a slow webhook never delays a cycle.

A run missed while the daemon was down runs once at start, not once per missed time: the
history's newest report is compared with the last time the schedule fired (`missed_run`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from html import escape
from pathlib import Path
from typing import Any, Final

from apscheduler.schedulers.base import BaseScheduler
from prometheus_client import CollectorRegistry, Counter, Gauge

from reconciler.drift.delivery import Webhook, post_webhooks, write_report_files
from reconciler.drift.formats import MEDIA_TYPES, render_all
from reconciler.drift.history import DriftHistory, HistoryError
from reconciler.drift.memory import MissingSince
from reconciler.drift.report import DriftReport
from reconciler.drift.survey import Survey, drift_settings, survey, survey_with_history
from reconciler.kube.errors import KubeError
from reconciler.kube.session import Session
from reconciler.kube.webhook_urls import webhook_urls
from reconciler.manifests.fleet import Fleet
from reconciler.manifests.models import DriftReportSpec
from reconciler.manifests.schedule import crontab_trigger
from reconciler.observed import ClusterFacts
from reconciler.observed.registry import ImageFacts
from reconciler.planner import PlannerSettings

log = logging.getLogger("edgefleet.drift")

JOB_ID: Final = "drift-report"
#: URL path of each format's newest report on the daemon's HTTP port.
LATEST_PATHS: Final = {"json": "/reports/latest.json", "html": "/reports/latest.html",
                       "markdown": "/reports/latest.md"}


@dataclass(frozen=True)
class DriftDaemonSettings:
    """Where the daemon keeps drift reports: `history` (sqlite:///... URL; None keeps the
    missingSince memory in memory only, without trend) and `report_dir` (None: HTTP only);
    `min_age_seconds` overrides the FleetConfig's minAge (the demo's short hour)."""

    history: str | None = None
    report_dir: Path | None = None
    min_age_seconds: int | None = None
    # `run --registry`: the reconcile cycles' registry lookup, so a report names registry holds
    # per pair and shows bytes per group and site (drift/registry_holds.py); None: without.
    registry: Callable[[Fleet], Mapping[str, ImageFacts]] | None = None


def missed_run(trigger: Any, last_report: datetime | None, now: datetime) -> bool:
    """True when `trigger` fired between the newest stored report and `now` (the daemon was down
    at that time): one catch-up run is due. Never true before the first report."""
    if last_report is None:
        return False
    due = trigger.get_next_fire_time(None, last_report + timedelta(seconds=1))
    return due is not None and due <= now


class DriftMetrics:
    """edgefleet_drift_*: pairs per group and reason, oldest drift per group, runs, deliveries."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.pairs = Gauge("edgefleet_drift_pairs", "Drifting (node, image) pairs at the last drift report.",
                           ["group", "reason"], registry=registry)
        self.oldest = Gauge("edgefleet_drift_oldest_seconds",
                            "Age of the oldest drifting pair per group at the last drift report.",
                            ["group"], registry=registry)
        self.reports = Counter("edgefleet_drift_reports", "Scheduled drift reports by result.",
                               ["result"], registry=registry)
        self.delivery_failures = Counter("edgefleet_drift_delivery_failures",
                                         "Drift report deliveries that failed, by target.", ["target"],
                                         registry=registry)
        self.last_report = Gauge("edgefleet_drift_last_report_timestamp_seconds",
                                 "When the last drift report was made (Unix time).", registry=registry)

    def record(self, report: DriftReport) -> None:
        """Replace the per-group gauges by those of `report` (a group without drift reads 0)."""
        self.pairs.clear()
        self.oldest.clear()
        for group in report.aggregates.groups:
            for reason, pairs in group.reasons.items():
                self.pairs.labels(group.key, reason).set(pairs)
            since = group.oldest_since
            self.oldest.labels(group.key).set(
                (report.generated_at - since).total_seconds() if since is not None else 0)
        self.last_report.set(report.generated_at.timestamp())


class DriftSchedule:
    """The cron job of one daemon: `observe_cycle` after each cycle, `run` when it fires."""

    def __init__(self, scheduler: BaseScheduler, session: Session, settings: DriftDaemonSettings, *,
                 registry: CollectorRegistry, may_report: Callable[[], bool],
                 now: Callable[[], datetime], planner: PlannerSettings = PlannerSettings()) -> None:
        """`planner`: the settings the daemon's cycles plan with, so reasons match their plans."""
        self._scheduler, self._session, self.settings = scheduler, session, settings
        self._planner = planner
        self._may_report, self._now = may_report, now
        self.metrics = DriftMetrics(registry)
        self._lock = threading.Lock()
        self._spec: DriftReportSpec | None = None
        self._input: tuple[Fleet, str | None, ClusterFacts] | None = None
        self._memory = MissingSince()  # missingSince without a history file
        self._latest: dict[str, bytes] = {}
        self.latest: DriftReport | None = None

    def observe_cycle(self, fleet: Fleet | None, revision: str | None, facts: ClusterFacts | None) -> None:
        """Keep the last cycle's revision and facts; (re)schedule when its driftReport changed."""
        if fleet is None or facts is None:
            return
        with self._lock:
            self._input = (fleet, revision, facts)
            spec, changed = fleet.drift_report, fleet.drift_report != self._spec
            self._spec = spec
        if changed:
            self._reschedule(spec)

    def _reschedule(self, spec: DriftReportSpec | None) -> None:
        if spec is None:
            if self._scheduler.get_job(JOB_ID) is not None:
                self._scheduler.remove_job(JOB_ID)
                log.info("drift reports: no spec.driftReport in the revision in force; unscheduled")
            return
        trigger = crontab_trigger(spec.schedule, spec.timezone)
        # coalesce + no grace limit: runs late rather than never, and once however many were missed.
        self._scheduler.add_job(self.run, trigger, id=JOB_ID, replace_existing=True, coalesce=True,
                                max_instances=1, misfire_grace_time=None)
        log.info("drift reports scheduled: %r in %s (next %s)", spec.schedule, spec.timezone,
                 trigger.get_next_fire_time(None, self._now()))
        if missed_run(trigger, self._last_stored(), self._now()):
            log.info("drift report: the scheduled run was missed while down; running it once now")
            self._scheduler.add_job(self.run, id=f"{JOB_ID}-catch-up", replace_existing=True)

    def _last_stored(self) -> datetime | None:
        if self.settings.history is None:
            return None
        try:
            with DriftHistory(self.settings.history) as history:
                return history.latest_at()
        except HistoryError as error:
            log.warning("drift history unreadable: %s", error)
            return None

    def run(self) -> Survey | None:
        """Make, keep and deliver one report (the job's body). Returns it; None when skipped
        (a standby replica, no cycle yet) or failed (logged and counted, never raised)."""
        if not self._may_report():
            log.info("drift report skipped: not the leader")
            self.metrics.reports.labels("standby").inc()
            return None
        with self._lock:
            made_from, spec = self._input, self._spec
        if made_from is None:
            log.info("drift report skipped: no reconcile cycle has observed the cluster yet")
            self.metrics.reports.labels("skipped").inc()
            return None
        fleet, revision, facts = made_from
        try:
            if self.settings.registry is not None:  # never raises: an outage is a warning
                facts = replace(facts, registry=self.settings.registry(fleet))
            made = self._survey(fleet, revision, facts, spec)
        except Exception as error:  # a report must never take the daemon down
            log.error("drift report failed: %s: %s", type(error).__name__, error)
            self.metrics.reports.labels("error").inc()
            return None
        self._deliver(made.report, spec)
        self.metrics.record(made.report)
        self.metrics.reports.labels("ok").inc()
        s = made.report.summary
        log.info("drift report of %s: %d pairs drifting on %d nodes, %.2f %% converged",
                 (revision or "worktree")[:12], s.pairs_drifting, s.nodes_drifting, s.convergence_percent)
        return made

    def _survey(self, fleet: Fleet, revision: str | None, facts: ClusterFacts,
                spec: DriftReportSpec | None) -> Survey:
        now = self._now()
        settings = drift_settings(fleet, min_age_seconds=self.settings.min_age_seconds)
        if self.settings.history is None:
            made = survey(fleet, facts, now=now, revision=revision, previous=self._memory, settings=settings,
                          planner=self._planner)
            self._memory = made.facts.missing_since
            return made
        retention = timedelta(days=spec.retention_days if spec is not None else 90)
        with DriftHistory(self.settings.history, retention=retention) as history:
            return survey_with_history(fleet, facts, history, now=now, revision=revision, settings=settings,
                                       planner=self._planner)

    def _deliver(self, report: DriftReport, spec: DriftReportSpec | None) -> None:
        rendered = render_all(report, ["json", "html", "markdown"])
        with self._lock:
            self._latest, self.latest = rendered, report
        formats = spec.formats if spec is not None else ["markdown", "json", "html"]
        if self.settings.report_dir is not None:
            written = write_report_files(self.settings.report_dir,
                                         {f: rendered[f] for f in formats}, report)
            if not written.ok:
                self.metrics.delivery_failures.labels("dir").inc()
        if spec is None or not spec.webhooks:
            return
        try:
            urls = webhook_urls(self._session, spec.webhooks)
        except KubeError as error:
            log.warning("drift report not posted: %s", error)
            for hook in spec.webhooks:
                self.metrics.delivery_failures.labels(f"webhook/{hook.name}").inc()
            return
        hooks = [Webhook(name=w.name, kind=w.kind, url=urls[w.name]) for w in spec.webhooks]
        for result in post_webhooks(hooks, report):
            if not result.ok:
                self.metrics.delivery_failures.labels(result.target).inc()

    def serve(self, path: str) -> tuple[int, str, bytes] | None:
        """The answer to GET `path` under /reports (None: not a reports path)."""
        if path in ("/reports", "/reports/"):
            return 200, "text/html; charset=utf-8", self._index().encode()
        for fmt, served in LATEST_PATHS.items():
            if path == served:
                with self._lock:
                    body = self._latest.get(fmt)
                if body is None:
                    return 404, "text/plain; charset=utf-8", b"no drift report yet\n"
                return 200, MEDIA_TYPES[fmt], body
        return None

    def _index(self) -> str:
        with self._lock:
            spec, report = self._spec, self.latest
        job = self._scheduler.get_job(JOB_ID)
        lines = ["<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>edgefleet drift reports"
                 "</title></head><body><h1>Drift reports</h1>"]
        if spec is None:
            lines.append("<p>No <code>spec.driftReport</code> in the revision in force.</p>")
        else:
            nxt = getattr(job, "next_run_time", None)
            lines.append(f"<p>Schedule <code>{escape(spec.schedule)}</code> ({escape(spec.timezone)}); "
                         "next run "
                         f"{nxt.isoformat() if nxt is not None else 'not scheduled'}.</p>")
        if report is None:
            lines.append("<p>No report yet.</p>")
        else:
            lines.append(f"<p>Newest: {report.generated_at.isoformat()}, {report.summary.pairs_drifting:,} "
                         "pairs drifting.</p><ul>")
            lines.extend(f'<li><a href="{path}">{path}</a></li>' for path in LATEST_PATHS.values())
            lines.append("</ul>")
        lines.append("</body></html>")
        return "\n".join(lines)
