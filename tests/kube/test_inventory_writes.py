"""Inventory records are written concurrently, up to `write_concurrency` at once, on the
emulator over real HTTP: a write that fails after its retries is left for the next cycle
(and the deletes with it) while the others land; the order inventory -> deletes -> creates
holds; a fence that closes stops every write, the ones in flight included."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.kube.applying import apply_plan
from reconciler.kube.crds import install_crds, read_crds
from reconciler.kube.errors import Fenced
from reconciler.kube.session import Session, WriteFence
from reconciler.kube.throttle import RetryPolicy
from reconciler.planner import JobDeletion
from reconciler.sim.apiserver.errors import ApiError
from reconciler.sim.apiserver.faults import Faults
from reconciler.sim.apiserver.server import ApiServer
from reconciler.sim.apiserver.store import Store
from tests.kube.conftest import FakeTime, open_session
from tests.kube.test_applying import INVENTORIES, JOBS, NGINX, V2, a_plan, inventory_update, names, planned

NODES = tuple(f"edge-{i:03d}" for i in range(16))


class HeldPatches(Faults):
    """Holds every PATCH in the server until `parties` of them are in flight together (a
    barrier), and records the most ever in flight. Serial writes never fill the barrier: it
    times out and the request is answered 500."""

    def __init__(self, parties: int) -> None:
        super().__init__()
        self.barrier = threading.Barrier(parties, timeout=30.0)
        self.in_flight = self.most_in_flight = 0
        self.broken = False
        self._held = threading.Lock()

    def request_error(self, verb: str) -> ApiError | None:
        if verb != "patch":
            return None
        with self._held:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            self.barrier.wait()
        except threading.BrokenBarrierError:
            self.broken = True
            return ApiError(500, "InternalError", "the barrier broke: writes were not concurrent")
        finally:
            with self._held:
                self.in_flight -= 1
        return None


def existing_inventories(session: Session, store: Store) -> tuple:  # type: ignore[type-arg]
    """Inventory updates of NODES whose objects exist (each write is one PATCH)."""
    install_crds(session, read_crds())
    apply_plan(session, a_plan(inventory=tuple(inventory_update(n) for n in NODES)),
               job_api_version=V2)
    return tuple(inventory_update(n, NGINX, exists=True,
                                  rv=store.get(*INVENTORIES, n)["metadata"]["resourceVersion"])
                 for n in NODES)


@pytest.fixture
def once(kubeconfig: Path, fake_time: FakeTime) -> Iterator[Session]:
    """A session without retries: every injected 500 is a write that failed for good."""
    opened = open_session(kubeconfig, fake_time, qps=1000.0, burst=1000,
                          retry=RetryPolicy(max_attempts=1))
    yield opened
    opened.close()


def test_inventory_writes_run_concurrently_up_to_the_bound(store: Store, tmp_path: Path,
                                                          fake_time: FakeTime) -> None:
    held = HeldPatches(parties=8)
    with ApiServer(store, faults=held) as server:
        session = open_session(server.write_kubeconfig(tmp_path / "kubeconfig"), fake_time,
                               qps=1000.0, burst=1000, write_concurrency=8)
        try:
            updates = existing_inventories(session, store)
            report = apply_plan(session, a_plan(inventory=updates), job_api_version=V2)
        finally:
            session.close()
    # 16 writes passed a barrier of 8 twice: 8 were in flight together, never more.
    assert not held.broken
    assert held.most_in_flight == 8
    assert sorted(report.inventories) == list(NODES)
    assert report.unwritten == () and report.failure is None
    assert all(store.get(*INVENTORIES, n)["status"]["images"][0]["image"] == NGINX for n in NODES)


def test_a_failed_inventory_write_leaves_the_deletes_for_the_next_cycle(
        once: Session, store: Store, faults: Faults, server: ApiServer) -> None:
    apply_plan(once, a_plan(create=(planned("ef-line-old"),)), job_api_version=V2)
    updates = existing_inventories(once, store)
    faults.error_rate, faults.verbs = 0.3, frozenset({"patch"})
    server.requests.clear()
    plan = a_plan(inventory=updates, delete=(JobDeletion("ef-line-old", "obsolete", "line"),),
                  create=(planned("ef-line-new"),))
    report = apply_plan(once, plan, job_api_version=V2)
    failed = faults.injected["error"]
    assert 0 < failed < len(NODES)  # seeded: some writes failed, the others went on
    assert len(report.unwritten) == failed
    assert sorted(report.inventories + report.unwritten) == list(NODES)
    assert report.failure is None
    # The old job may carry evidence only a failed write held: it stays; the new one is created.
    assert report.deleted == () and report.created == ("ef-line-new",)
    assert names(store) == ["ef-line-new", "ef-line-old"]
    verbs = [r.verb for r in server.requests.requests()]
    assert "delete" not in verbs
    # The next cycle writes what was left, and only then deletes.
    faults.reset()
    left = tuple(u for u in updates if u.node in report.unwritten)
    again = apply_plan(once, a_plan(inventory=left, delete=plan.delete), job_api_version=V2)
    assert sorted(again.inventories) == sorted(report.unwritten)
    assert again.deleted == ("ef-line-old",)
    assert names(store) == ["ef-line-new"]


def test_every_inventory_write_ends_before_the_first_delete_and_creates_come_last(
        session: Session, store: Store, server: ApiServer) -> None:
    apply_plan(session, a_plan(create=(planned("ef-line-old"),)), job_api_version=V2)
    updates = existing_inventories(session, store)
    server.requests.clear()
    plan = a_plan(inventory=updates, delete=(JobDeletion("ef-line-old", "obsolete", "line"),),
                  create=(planned("ef-line-new"),))
    report = apply_plan(session, plan, job_api_version=V2)
    assert report.failure is None and len(report.inventories) == len(NODES)
    log = [(r.verb, r.resource) for r in server.requests.requests()]
    patches = [i for i, (verb, _) in enumerate(log) if verb == "patch"]
    delete = log.index(("delete", JOBS[1]))
    create = log.index(("create", JOBS[1]))
    assert len(patches) == len(NODES)
    assert max(patches) < delete < create


def test_a_closed_fence_stops_every_inventory_write_and_the_rest_of_the_plan(
        session: Session, store: Store, server: ApiServer) -> None:
    apply_plan(session, a_plan(create=(planned("ef-line-old"),)), job_api_version=V2)
    updates = existing_inventories(session, store)
    server.requests.clear()
    lease = {"asked": 0}
    lock = threading.Lock()

    def may_send() -> bool:  # the Lease is lost after 5 writes were let through
        with lock:
            lease["asked"] += 1
            return lease["asked"] <= 5

    fence = WriteFence(may_send=may_send, request_timeout=10.0, budget=10.0, closed="lease lost")
    plan = a_plan(inventory=updates, delete=(JobDeletion("ef-line-old", "obsolete", "line"),),
                  create=(planned("ef-line-new"),))
    report = apply_plan(session, plan, job_api_version=V2, fence=fence)
    assert isinstance(report.failure, Fenced)
    assert "lease lost" in str(report.failure)
    sent = [r for r in server.requests.requests()]
    assert [r.verb for r in sent] == ["patch"] * 5  # nothing after the fence closed
    assert len(report.inventories) == 5
    assert (report.deleted, report.created) == ((), ())
    assert names(store) == ["ef-line-old"]
