"""Least privilege, proven on recorded calls: the controller (`edgefleet run`, leader election,
watches, cycles that create, garbage-collect and record evidence), the agent's writer (through
the MetaServer path, as cloudcore forwards it: system:node:<node>) and `edgefleet snapshot` run
against the embedded API server, which records every request (reconciler/sim/apiserver/audit.py).
Every request must be allowed by the RBAC of deploy/kustomize, and every verb granted must have
been used."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from reconciler.agent.connect import connect
from reconciler.agent.report import AgentReport, build_report
from reconciler.agent.runtime import image_fs_from_response, images_from_response, runtime_from_response
from reconciler.agent.writer import InventoryWriter
from reconciler.cli.demo_git import ServedFleetRepository
from reconciler.controller.daemon import Controller, ControllerSettings
from reconciler.controller.leader import LeaderTiming
from reconciler.controller.queue import QueueTiming
from reconciler.cycle.sync import SyncSettings
from reconciler.kube.session import Session
from reconciler.kube.snapshot import write_snapshot
from reconciler.planner.settings import PlannerSettings
from reconciler.sim.apiserver.audit import Request
from reconciler.sim.cluster import EmbeddedCluster
from reconciler.sim.kubeedge.fleetgen import FleetOptions
from tests.agent.conftest import recorded
from tests.deploy.rbac import allowed, granted_triples, used_triples
from tests.deploy.rendered import REPO_ROOT, render

NAMESPACE = "edgefleet"
CONTROLLER = (f"system:serviceaccount:{NAMESPACE}:edgefleet-controller",
              ("system:serviceaccounts", f"system:serviceaccounts:{NAMESPACE}", "system:authenticated"))
SNAPSHOT = (f"system:serviceaccount:{NAMESPACE}:edgefleet-snapshot",
            ("system:serviceaccounts", f"system:serviceaccounts:{NAMESPACE}", "system:authenticated"))
PULL_SECRETS = ("kubeedge/registry-cred", "toll/pull-cred", "vision/model-pull", "vision/pull-cred")
FAST_LEASE = LeaderTiming(lease_duration=3.5, renew_deadline=1.5, retry_period=0.2)


def node_identity(node: str) -> tuple[str, tuple[str, ...]]:
    """What cloudcore forwards an edge node's MetaServer request as."""
    return f"system:node:{node}", ("system:nodes", "system:authenticated")


def impersonate(session: Session, user: str, groups: tuple[str, ...]) -> Session:
    """`session`, sending every request as `user` (the headers of Kubernetes impersonation)."""
    session.api_client.set_default_header("Impersonate-User", user)
    session.api_client.set_default_header("Impersonate-Group", ",".join(groups))
    return session


def wait_until(predicate: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


@dataclass
class Recorded:
    """The install's RBAC objects and the requests each component made."""

    objects: list[dict[str, object]]
    controller: list[Request]
    agent: list[Request]
    snapshot: list[Request]
    node: str


def agent_report() -> AgentReport:
    answers = recorded("containerd-1.6.20")
    return build_report(images_from_response(answers.list_images),
                        image_fs_from_response(answers.image_fs_info, lambda mountpoint: 2**40),
                        runtime_from_response(answers.version), datetime.now(UTC))


def run_controller(cluster: EmbeddedCluster, kubeconfig: Path, repo: str, tmp: Path) -> list[Request]:
    """`edgefleet run` as the controller's service account, until it has created jobs,
    garbage-collected finished ones and recorded evidence; then stopped (Lease released)."""
    log = cluster.server.requests if cluster.server is not None else None
    assert log is not None
    session = impersonate(Session.from_kubeconfig(kubeconfig), *CONTROLLER)
    settings = ControllerSettings(
        repo=repo, interval=3600.0, resync=5.0, listen="127.0.0.1:0", lease_name="edgefleet",
        lease_namespace=NAMESPACE, leader=FAST_LEASE, queue=QueueTiming(debounce=0.2, max_delay=1.0),
        identity="edgefleet-controller-0", cache_dir=tmp / "cache",
        # with shards, the Lease calls are a superset of the single leader's: the shard Leases
        # (get, create, update), the member Leases (list) and its own withdrawn on stop (delete)
        shards=2,
        # finished jobs are collected soon (and none kept), so that a short run deletes some
        sync=SyncSettings(planner=PlannerSettings(ttl_after_finished=timedelta(minutes=5), keep_newest=0)))
    controller = Controller(settings, session, now=cluster.clock.now)
    controller.start()
    wanted = {("operations.kubeedge.io", "imageprepulljobs", "create"),
              ("operations.kubeedge.io", "imageprepulljobs", "delete"),
              ("edgefleet.io", "edgenodeinventories/status", "patch"),
              ("edgefleet.io", "fleetrollouts/status", "patch")}
    try:
        done = wait_until(lambda: wanted <= used_triples(_of(log.requests(), CONTROLLER[0])), 90)
    finally:
        controller.stop(release=True)
        session.close()
    assert done, f"the controller never did {wanted - used_triples(_of(log.requests(), CONTROLLER[0]))}"
    return _of(log.requests(), CONTROLLER[0])


def fleet_with_a_rollout(where: Path) -> Path:
    """fleet-examples/ with waves for factory-shanghai, so that the controller records a
    FleetRollout's progress too (docs/rollout.md)."""
    shutil.copytree(REPO_ROOT / "fleet-examples", where)
    groups = where / "groups" / "factories.yaml"
    text = groups.read_text(encoding="utf-8")
    anchor = "  imageSecret: vision/pull-cred\n  policy:\n"
    assert anchor in text
    groups.write_text(text.replace(anchor, "  imageSecret: vision/pull-cred\n  rollout:\n"
                                   "    waves: [{nodes: 50%}, {nodes: 100%}]\n  policy:\n", 1),
                      encoding="utf-8")
    return where


def _of(requests: list[Request], user: str) -> list[Request]:
    return [r for r in requests if r.user == user]


@pytest.fixture(scope="module")
def calls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Recorded]:
    tmp = tmp_path_factory.mktemp("rbac")
    options = FleetOptions(nodes=30, seed=5, offline=0.0, flapping=0.0, silent=0.0, slow=0.0)
    with ExitStack() as stack:
        cluster = EmbeddedCluster(nodes=30, speed=120, seed=5, fleet=options)
        stack.callback(cluster.stop)
        cluster.start()
        for ref in PULL_SECRETS:
            cluster.add_pull_secret(ref)
        cluster.store.create("", "namespaces", {"metadata": {"name": NAMESPACE}})
        kubeconfig = cluster.write_kubeconfig(tmp / "kubeconfig")
        repo = stack.enter_context(ServedFleetRepository(tmp / "git", fleet_with_a_rollout(tmp / "fleet")))
        controller = run_controller(cluster, kubeconfig, repo.url, tmp)

        # the agent of a node whose inventory does not exist yet: get (adopt), patch (404),
        # create, patch; then a restart that adopts the stored report and writes again on change
        node = "edge-rbac-new"
        assert cluster.server is not None
        for _ in range(2):
            writer = InventoryWriter(impersonate(connect(None, cluster.url), *node_identity(node)), node)
            writer.adopt_stored(datetime.now(UTC))
            writer.write(agent_report())
            writer.session.close()
        agent = _of(cluster.server.requests.requests(), node_identity(node)[0])

        reader = impersonate(Session.from_kubeconfig(kubeconfig), *SNAPSHOT)
        write_snapshot(reader, tmp / "snapshot.json.gz", taken_at=datetime.now(UTC))
        reader.close()
        snapshot = _of(cluster.server.requests.requests(), SNAPSHOT[0])
        yield Recorded(render("kubeedge-1.21"), controller, agent, snapshot, node)  # type: ignore[arg-type]


def _refused(recorded: Recorded, requests: list[Request]) -> list[str]:
    return sorted({f"{r.verb} {r.group or 'core'}/{r.resource}{'/' + r.subresource if r.subresource else ''}"
                   f"{' in ' + r.namespace if r.namespace else ''}"
                   for r in requests if not allowed(recorded.objects, r)})  # type: ignore[arg-type]


def test_every_controller_call_is_allowed(calls: Recorded) -> None:
    assert calls.controller, "nothing was recorded"
    assert _refused(calls, calls.controller) == []


def test_every_verb_granted_to_the_controller_was_used(calls: Recorded) -> None:
    granted = granted_triples(calls.objects, *CONTROLLER)  # type: ignore[arg-type]
    assert granted - used_triples(calls.controller) == set()


def test_every_agent_call_is_allowed_for_its_node_identity(calls: Recorded) -> None:
    assert {r.verb for r in calls.agent} >= {"get", "patch", "create"}
    assert _refused(calls, calls.agent) == []


def test_every_verb_granted_to_edge_nodes_was_used(calls: Recorded) -> None:
    granted = granted_triples(calls.objects, *node_identity(calls.node))  # type: ignore[arg-type]
    assert granted - used_triples(calls.agent) == set()


def test_every_snapshot_call_is_allowed_and_every_grant_used(calls: Recorded) -> None:
    assert _refused(calls, calls.snapshot) == []
    granted = granted_triples(calls.objects, *SNAPSHOT)  # type: ignore[arg-type]
    assert granted - used_triples(calls.snapshot) == set()


def test_the_check_refuses_what_no_rule_grants(calls: Recorded) -> None:
    """The evaluator is not a rubber stamp: calls no component makes are refused."""
    user, groups = CONTROLLER
    beyond = [Request(user, groups, "list", "", "secrets", "", "vision", ""),
              Request(user, groups, "update", "coordination.k8s.io", "leases", "", "default", "edgefleet"),
              Request(*node_identity(calls.node), "delete", "edgefleet.io", "edgenodeinventories", "", "",
                      calls.node),
              Request(*node_identity(calls.node), "patch", "edgefleet.io", "edgenodeinventories", "", "",
                      calls.node),
              Request(*SNAPSHOT, "get", "", "secrets", "", "vision", "pull-cred")]
    assert [allowed(calls.objects, r) for r in beyond] == [False] * len(beyond)  # type: ignore[arg-type]
