"""What real KubeEdge fleets do wrong, end to end: offline nodes, a wedged job (kubeedge#7049),
v1alpha1 silent success, and broken commits."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.cycle import Outcome
from reconciler.sim.apiserver.faults import Faults
from tests.e2e.conftest import AGENT_V1, MOSQUITTO, Bed, fleet_files, make_bed
from tests.fleetrepo import FleetRepo


def targeted(bed_result_plans: list[object]) -> set[str]:
    return {node for plan in bed_result_plans for job in plan.create  # type: ignore[attr-defined]
            for node in job.node_names}


def test_offline_nodes_are_deferred_then_served_once_back(bed: Bed) -> None:
    offline = bed.cluster.edge_names()[0]
    bed.cluster.nodes[offline].set_behaviour("offline")
    bed.cluster.advance(120)  # the node stops heartbeating; its Ready condition turns False
    first = bed.sync()
    assert first.plan is not None
    assert [d.node for d in first.plan.deferred] == [offline]
    assert offline not in targeted([first.plan])
    bed.cluster.advance(600)
    assert not bed.cluster.nodes[offline].has_image(MOSQUITTO)

    bed.cluster.nodes[offline].set_behaviour("online")
    bed.cluster.advance(120)
    results = bed.converge()
    assert offline in targeted([r.plan for r in results if r.plan])
    assert bed.cluster.nodes[offline].has_image(MOSQUITTO)
    assert bed.cluster.nodes[offline].has_image(AGENT_V1)


@pytest.mark.parametrize("kubeedge", ["1.21"])
def test_a_job_wedged_on_a_silent_node_is_detected_and_replaced(bed: Bed) -> None:
    assert bed.cluster.switches.wedge_on_silent_node  # kubeedge#7049, as 1.21 clusters have it
    names = sorted(bed.cluster.edge_names())
    silent, others = names[0], names[1:]
    bed.cluster.nodes[silent].set_behaviour("silent")
    # One slot per job: the silent node takes it first and never gives it back.
    bed.repo.commit(fleet_files(MOSQUITTO, AGENT_V1, concurrency=1), "One pull at a time")
    first = bed.sync()
    assert first.applied is not None
    (wedged,) = first.applied.created
    job = bed.jobs()[wedged]
    # timeoutSeconds is per node: 1.21 measures queued nodes from creation, so 6 waves.
    assert job["spec"]["imagePrePullTemplate"]["timeoutSeconds"] == 300 * len(names)
    bed.cluster.advance(400)  # past one node's timeout: the queued nodes are still waiting
    phases = {n["nodeName"]: n["phase"] for n in bed.jobs()[wedged]["status"]["nodeStatus"]}
    assert phases == {silent: "InProgress", **{n: "Pending" for n in others}}
    assert not any(bed.cluster.nodes[n].has_image(AGENT_V1) for n in names)

    bed.cluster.advance(600)  # nothing reported for one node's timeout x slack + grace
    detected = bed.sync()
    assert detected.plan is not None
    reasons = {d.name: d.reason for d in detected.plan.delete}
    assert reasons[wedged].startswith("stuck: no node has reported"), reasons
    failures = {f["image"]: f for f in bed.inventory(silent)["status"]["failures"]}
    assert set(failures) == {MOSQUITTO, AGENT_V1}
    assert {(f["attempts"], f["lastJob"]) for f in failures.values()} == {(1, wedged)}
    assert all(f["lastError"].startswith("no answer after dispatch") for f in failures.values())
    # The queued nodes were never asked: no attempt is charged, they are planned again at once,
    # without the silent node (it backs off, and later gets jobs of its own).
    assert [j.node_names for j in detected.plan.create] == [tuple(others)]

    bed.cluster.nodes[silent].set_behaviour("online")
    results = bed.converge(cycles=10, step=180)
    replacements = [j for r in results if r.plan for j in r.plan.create]
    assert replacements and wedged not in {j.name for j in replacements}
    assert [j.node_names for j in replacements if silent in j.node_names] == [(silent,)]
    for node in names:
        assert bed.cluster.nodes[node].has_image(AGENT_V1), node
        # Nothing failing any more: records stay only as markers (0 attempts, no backoff).
        assert [(f["attempts"], f["retryAfter"]) for f in bed.inventory(node)["status"]["failures"]
                if (f["attempts"], f["retryAfter"]) != (0, "")] == [], node


@pytest.fixture
def faulty_bed(tmp_path: Path, served_repo: tuple[FleetRepo, str]) -> Iterator[Bed]:
    yield from make_bed("1.21", tmp_path, served_repo, faults=Faults(seed=3))


def test_a_stuck_job_stays_until_the_evidence_of_its_silent_node_is_recorded(faulty_bed: Bed) -> None:
    bed = faulty_bed
    names = sorted(bed.cluster.edge_names())
    silent = names[0]
    bed.cluster.nodes[silent].set_behaviour("silent")
    bed.repo.commit(fleet_files(MOSQUITTO, AGENT_V1, concurrency=1), "One pull at a time")
    (wedged,) = bed.sync().applied.created  # type: ignore[union-attr]
    bed.cluster.advance(1000)
    bed.cluster.faults.conflicts = 50  # every inventory write of this cycle answers 409
    detected = bed.sync()
    assert detected.applied is not None and detected.applied.conflicts
    assert wedged not in detected.applied.deleted  # its evidence is not recorded yet
    assert wedged in bed.jobs()

    bed.cluster.faults.conflicts = 0
    recorded = bed.sync()
    assert recorded.applied is not None and wedged in recorded.applied.deleted
    failures = {f["image"]: f["attempts"] for f in bed.inventory(silent)["status"]["failures"]}
    assert failures == {MOSQUITTO: 1, AGENT_V1: 1}  # the silent node's attempt is charged
    assert all(silent not in j.node_names for j in recorded.plan.create)  # type: ignore[union-attr]


@pytest.mark.parametrize("kubeedge", ["1.16"])
def test_a_job_that_never_starts_is_deleted_as_stuck_and_replaced(bed: Bed) -> None:
    first = bed.sync()
    assert first.applied is not None
    (never,) = first.applied.created
    # A node removed after planning: KubeEdge 1.16 refuses the whole job, writing no status
    # at all (kubeedge#5531), so the job sits without a phase forever.
    gone = bed.cluster.edge_names()[-1]
    bed.cluster.store.delete("", "nodes", gone)
    deleted: dict[str, str] = {}
    for _ in range(6):
        bed.cluster.advance(180)
        result = bed.sync()
        assert result.plan is not None
        deleted.update((d.name, d.reason) for d in result.plan.delete)
        if never in deleted:
            break
    assert deleted[never].startswith("stuck: no phase")
    assert never not in bed.jobs()
    results = bed.converge(cycles=10, step=180)
    assert gone not in targeted([r.plan for r in results if r.plan])
    assert all(bed.cluster.nodes[n].has_image(AGENT_V1) for n in bed.cluster.edge_names() if n != gone)


@pytest.fixture
def secret_bed(tmp_path: Path) -> Iterator[Bed]:
    repo = FleetRepo(tmp_path / "served" / "fleet.git")
    # The secret exists (a missing one gets no job at all, docs/pull-secrets.md) but the edge
    # cannot use it (no .dockerconfigjson): KubeEdge 1.16-1.20 reports success with no imageStatus.
    repo.commit(fleet_files(MOSQUITTO, secret="kubeedge/unreadable-cred"), "Use an unusable secret")
    from tests.gitserve import serve_git_daemon

    with serve_git_daemon(tmp_path / "served") as url:
        for bed in make_bed("1.16", tmp_path, (repo, f"{url}/fleet.git")):
            if not bed.cluster.store.list("", "namespaces", field_selector="metadata.name=kubeedge")[0]:
                bed.cluster.store.create("", "namespaces", {"metadata": {"name": "kubeedge"}})
            bed.cluster.store.create("", "secrets", {
                "metadata": {"name": "unreadable-cred", "namespace": "kubeedge"}, "type": "Opaque",
                "data": {"token": "cGxhY2Vob2xkZXI="}}, namespace="kubeedge")
            yield bed


def test_v1alpha1_silent_success_is_not_counted_as_present(secret_bed: Bed) -> None:
    bed = secret_bed
    assert bed.cluster.switches.v1alpha1_secret_silent_success
    first = bed.sync()
    assert first.applied is not None
    (job_name,) = first.applied.created
    bed.cluster.advance(300)
    bed.sync()
    job = bed.jobs()[job_name]
    assert job["status"]["state"] == "Successful"  # what KubeEdge claims ...
    node = bed.cluster.edge_names()[0]
    assert not bed.cluster.nodes[node].has_image(MOSQUITTO)  # ... and what is true
    status = bed.inventory(node)["status"]
    assert MOSQUITTO not in {i["image"] for i in status.get("images", [])}
    assert MOSQUITTO in {f["image"] for f in status.get("failures", [])}
    later = bed.sync()
    assert later.plan is not None and later.plan.summary.pairs_present == 0


@pytest.mark.parametrize("broken", [
    pytest.param(b"apiVersion: edgefleet.io/v1alpha1\nkind: NodeGroupImages\nmetadata: {name: line}\n"
                 b"spec:\n  nodes: {nodeGroup: line-a}\n  imagez: [nginx]\n", id="unknown-key"),
    pytest.param(b"apiVersion: edgefleet.io/v1alpha1\nkind: NodeGroupImages\nmetadata: {name: line}\n"
                 b"spec:\n  nodes: {nodeGroup: line-a}\n  images: []\n", id="desires-nothing"),
])
def test_a_broken_commit_changes_nothing_and_keeps_the_last_good_revision(bed: Bed,
                                                                          broken: bytes) -> None:
    bed.converge()
    good = bed.last_good
    assert good is not None
    bed.cluster.advance(30 * 60)  # past the TTL: a valid cycle would now collect the old jobs
    before = set(bed.jobs())
    bed.repo.commit({"fleet.yaml": fleet_files()["fleet.yaml"], "groups/line.yaml": broken}, "Oops")
    result = bed.sync()
    assert result.outcome is Outcome.STALLED
    assert result.errors and result.plan is None and result.applied is None
    assert result.revision != good.revision
    assert result.in_force == good
    assert set(bed.jobs()) == before
    if b"imagez" in broken:
        assert result.errors[0].startswith("groups/line.yaml:6:")
