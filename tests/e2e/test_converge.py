"""Sync against the embedded KubeEdge (both dialects) until every edge cache holds the fleet."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from reconciler.cycle import CycleResult, Outcome, sync_once
from reconciler.kube.applying import ApplyReport
from reconciler.kube.cluster import LiveCluster
from reconciler.kube.session import Session
from tests.e2e.conftest import AGENT_V1, AGENT_V2, MOSQUITTO, Bed, fleet_files


class Crash(BaseException):
    """The process dies (SIGKILL, OOM): nothing after this point runs, except `finally`."""


def test_sync_converges_while_the_edge_pulls(bed: Bed) -> None:
    results = bed.converge()
    first = results[0]
    assert first.outcome is Outcome.PROGRESSING
    assert first.applied is not None and first.applied.created
    for name, node in bed.cluster.nodes.items():
        assert node.has_image(MOSQUITTO), name
        assert node.has_image(AGENT_V1), name
        recorded = {i["image"] for i in bed.inventory(name)["status"]["images"]}
        assert {MOSQUITTO, AGENT_V1} <= recorded, name
    # Every pair was pulled by exactly one job: no two jobs ever targeted the same pair.
    created = [n for r in results if r.plan for n in r.plan.create]
    pairs = [(node, image) for job in created for node in job.node_names for image in job.images]
    assert len(pairs) == len(set(pairs)) == 2 * len(bed.cluster.nodes)


def test_a_second_sync_creates_nothing(bed: Bed) -> None:
    first = bed.sync()
    second = bed.sync()
    assert first.applied is not None and len(first.applied.created) >= 1
    assert second.applied is not None
    assert second.applied.created == () and second.applied.already_existed == ()
    assert second.plan is not None and second.plan.create == ()


def test_an_image_bump_pulls_only_the_new_tag_and_collects_old_jobs_after_the_ttl(bed: Bed) -> None:
    bed.converge()
    old_jobs = set(bed.jobs())
    bed.repo.commit(fleet_files(MOSQUITTO, AGENT_V2), "Bump the telemetry agent")
    bumped = bed.sync()
    assert bumped.plan is not None
    assert {image for job in bumped.plan.create for image in job.images} == {AGENT_V2}
    # The old jobs finished less than the TTL ago: they stay for now (evidence, debugging).
    assert old_jobs <= set(bed.jobs())
    bed.cluster.advance(15 * 60)
    results = bed.converge()
    deleted = {d.name: d.reason for r in results if r.plan for d in r.plan.delete}
    assert old_jobs <= set(deleted)
    assert not old_jobs & set(bed.jobs())
    assert all(node.has_image(AGENT_V2) for node in bed.cluster.nodes.values())


def test_dry_run_plans_but_writes_nothing(bed: Bed) -> None:
    result = bed.sync(dry_run=True)
    assert result.outcome is Outcome.PROGRESSING
    assert result.applied is not None and result.applied.dry_run
    assert len(result.applied.created) >= 1
    assert bed.jobs() == {}
    assert bed.last_good is None  # a dry run puts no revision in force


def test_a_crash_between_two_creates_never_duplicates_a_job(bed: Bed) -> None:
    bed.repo.commit(fleet_files(MOSQUITTO, AGENT_V1, max_nodes_per_job=2), "Two nodes per job")
    crashing = Session(bed.session.api_client, bed.session.settings)
    creates = 0
    real_call = crashing.call

    def call_then_crash(what: str, request: Any, /, **params: Any) -> bytes:
        nonlocal creates
        if what.startswith("create imageprepulljobs/"):
            creates += 1
            if creates == 2:
                raise Crash()
        return real_call(what, request, **params)

    crashing.call = call_then_crash  # type: ignore[method-assign]
    recorded: list[CycleResult] = []
    with pytest.raises(Crash):
        sync_once(read_revision=bed.read_main, cluster=LiveCluster(crashing),
                  settings=bed.settings, now=bed.cluster.clock.now, record=recorded.append)
    assert [r.outcome for r in recorded] == [Outcome.TRANSIENT]  # the record was still written
    assert len(bed.jobs()) == 1

    after = bed.sync()  # a fresh process: it knows only what the cluster says
    assert after.applied is not None and after.applied.created
    pairs = Counter((node, image) for job in bed.jobs().values()
                    for node in job["spec"]["imagePrePullTemplate"]["nodeNames"]
                    for image in job["spec"]["imagePrePullTemplate"]["images"])
    assert set(pairs) == {(n, i) for n in bed.cluster.edge_names() for i in (MOSQUITTO, AGENT_V1)}
    assert max(pairs.values()) == 1
    assert bed.sync().applied == ApplyReport(dry_run=False)  # and then nothing more

