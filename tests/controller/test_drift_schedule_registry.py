"""The daemon's scheduled drift report with `run --registry` (#12): the cycles' registry lookup
feeds the report, so held pairs are named per (node, image) and bytes per group and site show.
The lookup is the seam's function shape (Fleet -> facts per image), as the cycle calls it."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from prometheus_client import CollectorRegistry

from reconciler.controller.drift_schedule import DriftDaemonSettings, DriftSchedule
from reconciler.drift.reasons import Reason
from reconciler.kube.session import Session
from reconciler.manifests.fleet import Fleet
from reconciler.observed.registry import ImageFacts, PlatformFacts
from tests.controller.test_drift_schedule import DRIFT_SPEC, facts, fleet_of

NGINX = "docker.io/library/nginx:1.25"


@pytest.fixture
def scheduler() -> Iterator[BackgroundScheduler]:
    scheduler = BackgroundScheduler(timezone="UTC")
    scheduler.start(paused=True)
    yield scheduler
    scheduler.shutdown(wait=True)


def report_with(scheduler: BackgroundScheduler, tmp_path: Path, lookup: object) -> DriftSchedule:
    settings = DriftDaemonSettings(report_dir=tmp_path / "reports", registry=lookup)  # type: ignore[arg-type]
    return DriftSchedule(scheduler, Session.__new__(Session), settings, registry=CollectorRegistry(),
                         may_report=lambda: True, now=lambda: datetime(2026, 12, 2, 9, 0, tzinfo=UTC))


def test_a_scheduled_report_names_registry_holds_and_bytes(scheduler: BackgroundScheduler,
                                                           tmp_path: Path) -> None:
    asked: list[Fleet] = []

    def missing(fleet: Fleet) -> Mapping[str, ImageFacts]:
        asked.append(fleet)
        return {NGINX: ImageFacts(reference=NGINX, exists=False, error="tag '1.25' not found")}

    drift = report_with(scheduler, tmp_path, missing)
    drift.observe_cycle(fleet_of(DRIFT_SPEC), "a" * 40, facts())
    made = drift.run()
    assert made is not None and len(asked) == 1
    assert {p.reason for p in made.report.pairs} == {Reason.NOT_IN_REGISTRY}
    assert made.report.transfer is not None and made.report.transfer.groups == []


def test_bytes_per_group_and_site_in_the_scheduled_report(scheduler: BackgroundScheduler,
                                                          tmp_path: Path) -> None:
    sized = ImageFacts(reference=NGINX, exists=True, platforms=(
        PlatformFacts(os="linux", architecture="amd64", digest="sha256:" + "a" * 64, size_bytes=700),))
    drift = report_with(scheduler, tmp_path, lambda fleet: {NGINX: sized})
    drift.observe_cycle(fleet_of(DRIFT_SPEC), "a" * 40, facts())
    made = drift.run()
    assert made is not None and made.report.transfer is not None
    # three Ready edge nodes without arch labels: the largest platform each, no site label
    assert [(b.key, b.bytes) for b in made.report.transfer.groups] == [("line", 2100)]
    assert [(b.key, b.bytes) for b in made.report.transfer.sites] == [("(unlabelled)", 2100)]


def test_without_registry_the_report_is_as_before(scheduler: BackgroundScheduler, tmp_path: Path) -> None:
    drift = report_with(scheduler, tmp_path, None)
    drift.observe_cycle(fleet_of(DRIFT_SPEC), "a" * 40, facts())
    made = drift.run()
    assert made is not None and made.report.transfer is None
    assert Reason.NOT_IN_REGISTRY not in {p.reason for p in made.report.pairs}
