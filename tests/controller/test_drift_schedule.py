"""The daemon's drift-report job: cron scheduling from spec.driftReport (crontab weekdays, time
zones), the one catch-up run after downtime, leader-only runs, the metrics, /reports, and end to
end in the running controller over HTTP with a real SQLite history."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import orjson
import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from reconciler.controller.daemon import Controller
from reconciler.controller.drift_schedule import JOB_ID, DriftDaemonSettings, DriftSchedule, missed_run
from reconciler.drift.history import DriftHistory
from reconciler.kube.session import Session
from reconciler.kubeedge import V1ALPHA2
from reconciler.manifests import load_fleet
from reconciler.manifests.fleet import Fleet
from reconciler.manifests.schedule import crontab_trigger
from reconciler.observed.cluster import ClusterFacts
from tests.controller.conftest import FLEET_EXAMPLES, FleetEnv, wait_until
from tests.fleet_builders import BELONGING, node_object, nodes_facts

SHANGHAI = ZoneInfo("Asia/Shanghai")
DRIFT_SPEC = """\
  driftReport:
    schedule: "0 7 * * 1-5"
    timezone: Asia/Shanghai
    minAge: 0s
"""
GROUP = b"""\
apiVersion: edgefleet.io/v1alpha1
kind: NodeGroupImages
metadata: {name: line}
spec:
  nodes: {nodeGroup: line}
  images: [nginx:1.25]
"""


def fleet_of(spec: str | None) -> Fleet:
    config = "apiVersion: edgefleet.io/v1alpha1\nkind: FleetConfig\nmetadata: {name: fleet}\nspec:\n"
    config += spec if spec is not None else "  allowEmpty: false\n"
    loaded = load_fleet({"fleet.yaml": config.encode(), "groups/line.yaml": GROUP})
    assert loaded.fleet is not None, loaded.errors
    return loaded.fleet


def facts(ready: bool = True) -> ClusterFacts:
    nodes = [node_object(f"edge-{i}", labels={BELONGING: "line"}, ready=ready or i > 0) for i in range(3)]
    return ClusterFacts(nodes=nodes_facts(*nodes), jobs=[], inventories=[], job_api_version=V1ALPHA2,
                        inventory_served=True)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def scheduler() -> Iterator[BackgroundScheduler]:
    scheduler = BackgroundScheduler(timezone="UTC")
    scheduler.start(paused=True)  # jobs are stored and replaced as in the daemon, never run
    yield scheduler
    scheduler.shutdown(wait=True)


def schedule(scheduler: BackgroundScheduler, tmp_path: Path, *, leader: bool = True,
             history: bool = True, now: datetime = datetime(2026, 12, 2, 9, 0, tzinfo=UTC),
             ) -> tuple[DriftSchedule, CollectorRegistry, Clock]:
    registry = CollectorRegistry()
    clock = Clock(now)
    settings = DriftDaemonSettings(history=f"sqlite://{tmp_path / 'drift.db'}" if history else None,
                                   report_dir=tmp_path / "reports")
    made = DriftSchedule(scheduler, Session.__new__(Session), settings, registry=registry,
                         may_report=lambda: leader, now=clock)
    return made, registry, clock


def test_missed_run_is_due_once_the_schedule_fired_after_the_last_report() -> None:
    trigger = crontab_trigger("0 7 * * 1-5", "Asia/Shanghai")
    friday = datetime(2026, 12, 4, 7, 0, 5, tzinfo=SHANGHAI)  # the Friday report
    assert not missed_run(trigger, friday, datetime(2026, 12, 6, 12, 0, tzinfo=SHANGHAI))  # weekend
    assert missed_run(trigger, friday, datetime(2026, 12, 7, 7, 30, tzinfo=SHANGHAI))  # Monday 07:00
    assert missed_run(trigger, friday, datetime(2026, 12, 18, 7, 30, tzinfo=SHANGHAI))  # down 2 weeks
    assert not missed_run(trigger, None, datetime(2026, 12, 7, 7, 30, tzinfo=SHANGHAI))  # first start


def test_the_job_follows_the_revision_in_force(scheduler: BackgroundScheduler, tmp_path: Path) -> None:
    drift, _, _ = schedule(scheduler, tmp_path)
    drift.observe_cycle(fleet_of(DRIFT_SPEC), "a" * 40, facts())
    job = scheduler.get_job(JOB_ID)
    assert job is not None
    # Wednesday 2026-12-02 09:00 UTC is 17:00 in Shanghai: next is Thursday 07:00 there.
    due = job.trigger.get_next_fire_time(None, datetime(2026, 12, 2, 9, 0, tzinfo=UTC))
    assert due == datetime(2026, 12, 3, 7, 0, tzinfo=SHANGHAI)
    friday_evening = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
    monday = datetime(2026, 12, 7, 7, 0, tzinfo=SHANGHAI)
    assert job.trigger.get_next_fire_time(None, friday_evening) == monday
    drift.observe_cycle(fleet_of(DRIFT_SPEC.replace("0 7", "30 6")), "b" * 40, facts())
    moved = scheduler.get_job(JOB_ID)
    assert moved.trigger.get_next_fire_time(None, friday_evening) == datetime(2026, 12, 7, 6, 30,
                                                                              tzinfo=SHANGHAI)
    drift.observe_cycle(fleet_of(None), "c" * 40, facts())
    assert scheduler.get_job(JOB_ID) is None


def test_a_run_reports_keeps_history_and_sets_the_metrics(scheduler: BackgroundScheduler,
                                                          tmp_path: Path) -> None:
    drift, registry, clock = schedule(scheduler, tmp_path)
    assert drift.run() is None  # no cycle yet: nothing to report from
    drift.observe_cycle(fleet_of(DRIFT_SPEC), "a" * 40, facts(ready=False))
    first = drift.run()
    assert first is not None and first.report.drifting
    clock.now += timedelta(hours=2)
    second = drift.run()
    assert second is not None
    oldest = {row.reason: row.since for row in second.report.pairs}
    assert oldest["deferred-offline"] == datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
    assert len(second.report.trend.points) == 2
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for family in text_string_to_metric_families(_exposition(registry)) for s in family.samples}
    assert samples[("edgefleet_drift_pairs", (("group", "line"), ("reason", "deferred-offline")))] == 1
    assert samples[("edgefleet_drift_pairs", (("group", "line"), ("reason", "not-yet-planned")))] == 2
    assert samples[("edgefleet_drift_oldest_seconds", (("group", "line"),))] == 7200
    assert samples[("edgefleet_drift_reports_total", (("result", "ok"),))] == 2
    assert sorted(p.name for p in (tmp_path / "reports").iterdir() if p.name.startswith("latest"))\
        == ["latest.html", "latest.json", "latest.md"]
    status, media, body = drift.serve("/reports/latest.json") or (0, "", b"")
    assert status == 200 and media == "application/json"
    assert orjson.loads(body)["generatedAt"] == "2026-12-02T11:00:00Z"
    assert drift.serve("/status") is None


def test_a_standby_replica_makes_no_report(scheduler: BackgroundScheduler, tmp_path: Path) -> None:
    drift, _, _ = schedule(scheduler, tmp_path, leader=False)
    drift.observe_cycle(fleet_of(DRIFT_SPEC), "a" * 40, facts(ready=False))
    assert drift.run() is None
    assert drift.serve("/reports/latest.json") == (404, "text/plain; charset=utf-8", b"no drift report yet\n")
    with DriftHistory(f"sqlite://{tmp_path / 'drift.db'}") as history:
        assert history.count() == 0


def test_without_a_history_file_ages_are_kept_in_memory(scheduler: BackgroundScheduler,
                                                        tmp_path: Path) -> None:
    drift, _, clock = schedule(scheduler, tmp_path, history=False)
    drift.observe_cycle(fleet_of(DRIFT_SPEC), "a" * 40, facts(ready=False))
    start = clock.now
    drift.run()
    clock.now += timedelta(hours=1)
    later = drift.run()
    assert later is not None and {p.since for p in later.report.pairs} == {start}


def test_after_downtime_the_missed_report_runs_once_at_start(scheduler: BackgroundScheduler,
                                                             tmp_path: Path) -> None:
    url = f"sqlite://{tmp_path / 'drift.db'}"
    drift, _, clock = schedule(scheduler, tmp_path)
    drift.observe_cycle(fleet_of(DRIFT_SPEC), "a" * 40, facts())
    drift.run()  # Wednesday 09:00 UTC: the last report before going down
    assert [j.id for j in scheduler.get_jobs()] == [JOB_ID]
    # Down until the next Monday: four scheduled runs missed; one catch-up job, once.
    restarted = BackgroundScheduler(timezone="UTC")
    restarted.start(paused=True)
    try:
        again, _, _ = schedule(restarted, tmp_path, now=clock.now + timedelta(days=5))
        again.observe_cycle(fleet_of(DRIFT_SPEC), "a" * 40, facts())
        assert sorted(j.id for j in restarted.get_jobs()) == [JOB_ID, f"{JOB_ID}-catch-up"]
    finally:
        restarted.shutdown(wait=True)
    with DriftHistory(url) as history:
        assert history.count() == 1


def _exposition(registry: CollectorRegistry) -> str:
    from prometheus_client import generate_latest
    return generate_latest(registry).decode()


# ----- the running controller -----

def get(url: str) -> tuple[int, str, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return int(response.status), response.headers["Content-Type"], response.read()
    except urllib.error.HTTPError as error:
        return int(error.code), error.headers["Content-Type"], error.read()


def test_the_daemon_schedules_serves_and_counts_drift_reports(
        fleet_env: FleetEnv, tmp_path: Path, start_controller: Callable[..., Controller]) -> None:
    config = (FLEET_EXAMPLES / "fleet.yaml").read_text() + DRIFT_SPEC
    revision = fleet_env.repo.commit("fleet.yaml", config, "Drift reports on weekday mornings")
    fleet_env.repo.push()
    history = f"sqlite://{tmp_path / 'state' / 'drift.db'}"
    controller = start_controller(drift=DriftDaemonSettings(history=history, report_dir=tmp_path / "out"))
    assert wait_until(lambda: b"0 7 * * 1-5" in get(f"{controller.url}/reports")[2], 30)
    page = get(f"{controller.url}/reports")[2].decode()
    assert "Asia/Shanghai" in page and "+08:00" in page  # the next run, in the schedule's zone
    assert get(f"{controller.url}/reports/latest.json")[0] == 404

    made = controller.drift.run()  # what the cron job runs at 07:00
    assert made is not None and made.report.revision == revision
    status, media, body = get(f"{controller.url}/reports/latest.json")
    assert status == 200 and media == "application/json"
    assert orjson.loads(body)["summary"]["nodes"] == 30
    html = get(f"{controller.url}/reports/latest.html")
    assert html[0] == 200 and html[1].startswith("text/html") and b"<svg" in html[2]
    metrics = get(f"{controller.url}/metrics")[2].decode()
    assert 'edgefleet_drift_reports_total{result="ok"} 1.0' in metrics
    assert "edgefleet_drift_last_report_timestamp_seconds" in metrics
    assert (tmp_path / "out" / "latest.md").is_file()
    with DriftHistory(history) as stored:
        assert stored.count() == 1
