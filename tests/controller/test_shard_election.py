"""Shard Leases on the embedded API server: the fair share, the hand-back only between cycles,
orphans taken after their Lease expires, and a clean stop that hands everything back."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from kubernetes import client

from reconciler.controller.shard_election import ShardElection
from reconciler.kube.session import Session
from reconciler.sim.apiserver.store import Store
from tests.controller.conftest import FAST_LEASE, wait_until


@pytest.fixture
def elect(kubeconfig: Path) -> Iterator[Callable[..., ShardElection]]:
    started: list[tuple[ShardElection, Session]] = []

    def make(identity: str, shards: int = 2, quiet: threading.Lock | None = None) -> ShardElection:
        session = Session.from_kubeconfig(kubeconfig)
        election = ShardElection(client.CoordinationV1Api(session.api_client), shards=shards,
                                 name="edgefleet", namespace="default", identity=identity,
                                 timing=FAST_LEASE, quiet=quiet or threading.Lock())
        election.start()
        started.append((election, session))
        return election

    yield make
    for election, session in started:
        election.stop(release=True)
        session.close()


def holder(store: Store, shard: int) -> str:
    lease = store.get("coordination.k8s.io", "leases", f"edgefleet-shard-{shard}", namespace="default")
    return str(lease["spec"]["holderIdentity"] or "")


def test_a_lone_replica_holds_every_shard_and_hands_one_over_to_a_newcomer_between_cycles(
        elect: Callable[..., ShardElection], store: Store) -> None:
    in_a_cycle = threading.Lock()
    a = elect("replica-a", quiet=in_a_cycle)
    assert wait_until(lambda: a.held() == [0, 1], 10)
    in_a_cycle.acquire()  # a cycle is running: nothing may be handed back meanwhile
    b = elect("replica-b")
    assert wait_until(lambda: a.live_members() == 2, 10)
    time.sleep(1.0)  # every chance to hand a shard back too early
    assert a.held() == [0, 1] and b.held() == []
    in_a_cycle.release()
    assert wait_until(lambda: len(a.held()) == 1 and len(b.held()) == 1, 10)
    assert {holder(store, 0), holder(store, 1)} == {"replica-a", "replica-b"}


def test_a_dead_replicas_shards_are_taken_after_their_lease_expires(
        elect: Callable[..., ShardElection], store: Store) -> None:
    a = elect("replica-a", shards=3)
    b = elect("replica-b", shards=3)
    assert wait_until(lambda: len(a.held()) + len(b.held()) == 3 and a.held() and b.held(), 15)
    orphans = a.held()
    a.stop(release=False)  # a crash: the Leases stay held until they expire
    assert all(holder(store, s) == "replica-a" for s in orphans)
    assert wait_until(lambda: b.held() == [0, 1, 2], FAST_LEASE.lease_duration * 4)
    assert all(holder(store, s) == "replica-b" for s in orphans)


def test_a_clean_stop_hands_every_shard_back_and_withdraws_the_member(
        elect: Callable[..., ShardElection], store: Store) -> None:
    a = elect("replica-a")
    assert wait_until(lambda: a.held() == [0, 1], 10)
    a.stop(release=True)
    assert [holder(store, s) for s in (0, 1)] == ["", ""]
    members = [n for n in (o["metadata"]["name"] for o in store.list("coordination.k8s.io", "leases")[0])
               if n.startswith("edgefleet-member-")]
    assert members == []
