"""Leader election against the embedded API server's coordination.k8s.io/v1 Leases."""

from __future__ import annotations

import time
from collections.abc import Callable

from kubernetes import client

from reconciler.controller.leader import LeaderTiming, LeaseElector
from reconciler.kube.session import Session
from reconciler.sim.apiserver.store import Store

FAST = LeaderTiming(lease_duration=2.0, renew_deadline=1.5, retry_period=0.2)


def elector(session: Session, identity: str) -> LeaseElector:
    return LeaseElector(client.CoordinationV1Api(session.api_client), name="edgefleet",
                        namespace="default", identity=identity, timing=FAST)


def wait_until(predicate: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def holder(store: Store) -> str:
    return str(store.get("coordination.k8s.io", "leases", "edgefleet", namespace="default")
               ["spec"].get("holderIdentity") or "")


def test_one_of_two_candidates_leads_and_the_lease_names_it(session: Session, store: Store) -> None:
    a, b = elector(session, "a"), elector(session, "b")
    a.start()
    b.start()
    try:
        assert wait_until(lambda: a.is_leader() or b.is_leader(), 5)
        time.sleep(4 * FAST.retry_period)
        assert a.is_leader() != b.is_leader()
        leader = "a" if a.is_leader() else "b"
        assert holder(store) == leader
        lease = store.get("coordination.k8s.io", "leases", "edgefleet", namespace="default")
        assert lease["spec"]["leaseDurationSeconds"] == 2
    finally:
        a.stop()
        b.stop()


def test_a_crashed_leader_is_replaced_after_the_lease_expires(session: Session, store: Store) -> None:
    first = elector(session, "first")
    first.start()
    assert wait_until(first.is_leader, 5)
    second = elector(session, "second")
    second.start()
    try:
        time.sleep(1.0)
        assert not second.is_leader()
        first.stop(release=False)  # a crash: the Lease stays held
        assert holder(store) == "first"
        stopped = time.monotonic()
        assert wait_until(second.is_leader, FAST.lease_duration + 2)
        took = time.monotonic() - stopped
        # Not before the lease could have expired (first renewed at most one retry before stop).
        assert took >= FAST.lease_duration - FAST.retry_period - 0.3
        assert holder(store) == "second"
        lease = store.get("coordination.k8s.io", "leases", "edgefleet", namespace="default")
        assert lease["spec"]["leaseTransitions"] >= 1
    finally:
        second.stop()


def test_a_released_lease_is_taken_at_once(session: Session, store: Store) -> None:
    first = elector(session, "first")
    first.start()
    assert wait_until(first.is_leader, 5)
    second = elector(session, "second")
    second.start()
    try:
        first.stop(release=True)
        assert holder(store) in ("", "second")
        assert wait_until(second.is_leader, 1.0)  # well before the 2 s lease duration
    finally:
        second.stop()


def test_a_leader_that_cannot_renew_steps_down(session: Session, store: Store) -> None:
    steps: list[str] = []
    only = LeaseElector(client.CoordinationV1Api(session.api_client), name="edgefleet",
                        namespace="default", identity="only", timing=FAST,
                        on_started=lambda: steps.append("started"),
                        on_stopped=lambda: steps.append("stopped"))
    only.start()
    try:
        assert wait_until(only.is_leader, 5)
        # Someone else takes the Lease by force (e.g. an operator): our renewals now conflict.
        store.mutate("coordination.k8s.io", "leases", "edgefleet",
                     lambda lease: lease["spec"].update(holderIdentity="intruder", leaseDurationSeconds=60),
                     namespace="default")
        assert wait_until(lambda: not only.is_leader(), FAST.renew_deadline + 1)
        assert steps == ["started", "stopped"]
    finally:
        only.stop()
