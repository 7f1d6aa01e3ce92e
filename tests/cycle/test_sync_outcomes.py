"""`sync_once` per outcome, without a server: what a cycle reports, what it keeps in force, and
whether it applied anything, for each way a cycle can end."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime

import orjson
import pytest

from reconciler.cycle import GoodRevision, Outcome, SyncSettings, exit_code, sync_once
from reconciler.kube.applying import ApplyReport
from reconciler.kube.errors import ApiBusy, ApiUnavailable
from reconciler.manifests import load_fleet
from reconciler.observed import ClusterFacts, from_snapshots
from reconciler.planner import Plan
from reconciler.source import FleetFiles, SourceError
from tests.cycle.fake_cluster import FakeCluster

NOW = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)
HELD = "docker.io/library/nginx:1.25"
COMMIT = "a" * 40


def fleet_files(*images: str, revision: str = COMMIT) -> FleetFiles:
    listed = "".join(f"    - {image}\n" for image in images)
    text = ("apiVersion: edgefleet.io/v1alpha1\nkind: NodeGroupImages\nmetadata: {name: line}\n"
            f"spec:\n  nodes: {{names: [edge-1]}}\n  images:\n{listed}")
    return FleetFiles(revision, {"fleet.yaml": text.encode()})


def facts() -> ClusterFacts:
    node = {"metadata": {"name": "edge-1", "labels": {"node-role.kubernetes.io/edge": ""}},
            "status": {"conditions": [{"type": "Ready", "status": "True"}],
                       "images": [{"names": [HELD], "sizeBytes": 1}]}}
    return from_snapshots(orjson.dumps({"apiVersion": "v1", "kind": "List", "items": [node]}),
                          job_api_version="operations.kubeedge.io/v1alpha2")


def created(plan: Plan, dry_run: bool) -> ApplyReport:
    return ApplyReport(dry_run=dry_run, created=tuple(job.name for job in plan.create))


def busy(plan: Plan, dry_run: bool) -> ApplyReport:
    return ApplyReport(dry_run=dry_run, failure=ApiBusy("the server asks to wait", 7.0))


def unreachable() -> ClusterFacts:
    raise ApiUnavailable("connection refused")


def broken_git() -> FleetFiles:
    raise SourceError("cannot fetch origin: connection refused")


LAST_GOOD = GoodRevision("b" * 40, load_fleet(fleet_files(HELD).files).fleet)  # type: ignore[arg-type]

CASES: list[tuple[str, Callable[[], FleetFiles], Callable[[], ClusterFacts],
                  Callable[[Plan, bool], ApplyReport], Outcome, bool, str | None]] = [
    # name, revision, observe, apply, outcome, applied?, revision in force afterwards
    ("every pair present", lambda: fleet_files(HELD), facts, created, Outcome.CONVERGED, True, COMMIT),
    ("a missing image gets a job", lambda: fleet_files(HELD, "redis:7"), facts, created,
     Outcome.PROGRESSING, True, COMMIT),
    ("an invalid commit changes nothing", lambda: FleetFiles(COMMIT, {"fleet.yaml": b"kind: [\n"}),
     facts, created, Outcome.STALLED, False, LAST_GOOD.revision),
    ("an empty desired state is refused", lambda: FleetFiles(COMMIT, {}), facts, created,
     Outcome.STALLED, False, LAST_GOOD.revision),
    ("429 while applying", lambda: fleet_files(HELD, "redis:7"), facts, busy, Outcome.WAITING, True, COMMIT),
    ("API server unreachable", lambda: fleet_files(HELD), unreachable, created, Outcome.TRANSIENT, False,
     LAST_GOOD.revision),
    ("git unreachable", broken_git, facts, created, Outcome.TRANSIENT, False, LAST_GOOD.revision),
]


@pytest.mark.parametrize(("name", "read", "observe", "apply", "outcome", "applies", "in_force"), CASES,
                         ids=[case[0] for case in CASES])
def test_outcome(name: str, read: Callable[[], FleetFiles], observe: Callable[[], ClusterFacts],
                 apply: Callable[[Plan, bool], ApplyReport], outcome: Outcome, applies: bool,
                 in_force: str | None) -> None:
    cluster = FakeCluster(observe, apply)
    seen = []
    result = sync_once(read_revision=read, cluster=cluster, settings=SyncSettings(),
                       last_good=LAST_GOOD, now=lambda: NOW, record=seen.append)
    assert result.outcome is outcome, result.message
    assert seen == [result]  # `record` sees the result on every exit path
    assert bool(cluster.applied) is applies
    assert (result.in_force.revision if result.in_force else None) == in_force
    assert exit_code(result.outcome) == (0 if outcome in (Outcome.CONVERGED, Outcome.PROGRESSING) else 1)
    if outcome is Outcome.WAITING:
        assert result.retry_after == 7.0
    if outcome is Outcome.PROGRESSING:
        assert [job.images for job in cluster.applied[0].create] == [("docker.io/library/redis:7",)]
    if outcome is Outcome.STALLED:
        assert result.errors, "a stalled cycle names what a human must fix"


def two_groups() -> FleetFiles:
    """`line` pulls redis with line/pull-cred; `yard` pulls memcached with yard/pull-cred."""
    def doc(name: str, image: str) -> str:
        return (f"apiVersion: edgefleet.io/v1alpha1\nkind: NodeGroupImages\nmetadata: {{name: {name}}}\n"
                f"spec:\n  nodes: {{names: [edge-1]}}\n  imageSecret: {name}/pull-cred\n"
                f"  images:\n    - {image}\n")
    return FleetFiles(COMMIT, {"line.yaml": doc("line", "redis:7").encode(),
                               "yard.yaml": doc("yard", "memcached:1.6").encode()})


def test_a_missing_pull_secret_is_an_error_for_its_group_and_the_others_are_applied() -> None:
    present = frozenset({"yard/pull-cred"})  # line/pull-cred does not exist
    cluster = FakeCluster(lambda: replace(facts(), secrets=present), created)
    result = sync_once(read_revision=two_groups, cluster=cluster, settings=SyncSettings(),
                       now=lambda: NOW)
    # The cycle asked about exactly the secrets the jobs would name.
    assert cluster.asked_secrets == [frozenset({"line/pull-cred", "yard/pull-cred"})]
    assert [(job.group, job.secret) for job in cluster.applied[0].create] == [("yard", "yard/pull-cred")]
    assert result.outcome is Outcome.STALLED and exit_code(result.outcome) == 1
    assert result.errors == ("group line: pull secret line/pull-cred does not exist on the cluster; "
                             "no jobs are created for the group until it does",)
    assert result.message.startswith("1 pull secret(s) missing, their groups get no jobs; ")
    assert any("line/pull-cred" in w for w in cluster.applied[0].warnings)
    assert result.in_force is not None and result.in_force.revision == COMMIT
