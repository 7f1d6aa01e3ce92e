"""Two replicas of the controller on one cluster: only the Lease holder writes, and the other
takes over within the lease duration when the holder dies without releasing it."""

from __future__ import annotations

import time
from collections.abc import Callable

from reconciler.cli.demo_change import find_bump, send_push_webhook
from reconciler.controller.daemon import Controller
from reconciler.manifests.imageref import normalize_image
from tests.controller.conftest import FAST_LEASE, WEBHOOK_SECRET, FleetEnv, wait_until


def job_writes(controller: Controller) -> float:
    return controller.registry.get_sample_value("edgefleet_job_writes_total", {"action": "create"}) or 0.0


def test_only_the_holder_writes_and_the_standby_takes_over_after_a_crash(
        fleet_env: FleetEnv, start_controller: Callable[..., Controller]) -> None:
    a = start_controller("replica-a")
    b = start_controller("replica-b")
    assert wait_until(lambda: a.elector.is_leader() or b.elector.is_leader(), 5)
    leader, standby = (a, b) if a.elector.is_leader() else (b, a)
    assert wait_until(lambda: leader.state.snapshot().ready and fleet_env.managed_jobs() != [], 20)
    time.sleep(1.0)  # give the standby every chance to misbehave
    assert not standby.elector.is_leader()
    assert standby.state.snapshot().cycles == 0
    assert job_writes(standby) == 0
    assert wait_until(lambda: job_writes(leader) == len(fleet_env.managed_jobs()) > 0, 5)
    lease = fleet_env.cluster.store.get("coordination.k8s.io", "leases", "edgefleet", namespace="default")
    assert lease["spec"]["holderIdentity"] == leader.settings.identity

    leader.stop(release=False)  # a crash: threads end, the Lease stays held
    crashed = time.monotonic()
    assert wait_until(standby.elector.is_leader, FAST_LEASE.lease_duration + 2.0)
    took = time.monotonic() - crashed
    assert took <= FAST_LEASE.lease_duration + 2 * FAST_LEASE.retry_period + 1.0
    # The new leader reconciles: a push now reaches the cluster through it.
    bump = find_bump(fleet_env.repo.work)
    revision = fleet_env.repo.commit(bump.path, bump.content, "bump")
    fleet_env.repo.push()
    assert send_push_webhook(standby.url, WEBHOOK_SECRET, branch="main", revision=revision) == 202
    image = normalize_image(bump.new)
    assert wait_until(lambda: any(image in j["spec"]["imagePrePullTemplate"]["images"]
                                  for j in fleet_env.managed_jobs()), 10)
    assert wait_until(lambda: job_writes(standby) > 0, 5)  # counted when its cycle ends


def test_a_graceful_stop_hands_the_lease_over_at_once(
        fleet_env: FleetEnv, start_controller: Callable[..., Controller]) -> None:
    a = start_controller("replica-a")
    assert wait_until(a.elector.is_leader, 5)
    b = start_controller("replica-b")
    a.stop(release=True)
    lease = fleet_env.cluster.store.get("coordination.k8s.io", "leases", "edgefleet", namespace="default")
    assert lease["spec"]["holderIdentity"] in ("", "replica-b")
    # Well before the lease duration would have expired.
    assert wait_until(b.elector.is_leader, FAST_LEASE.lease_duration / 2)


def test_stopping_mid_apply_finishes_the_write_in_progress_and_no_more(
        fleet_env: FleetEnv, start_controller: Callable[..., Controller]) -> None:
    fleet_env.cluster.faults.latency = 0.3  # each API request takes a while: the apply takes seconds
    controller = start_controller()
    assert wait_until(lambda: len(fleet_env.managed_jobs()) >= 1, 30, interval=0.01)
    seen = len(fleet_env.managed_jobs())
    controller.stop()
    after = len(fleet_env.managed_jobs())
    assert seen <= after <= seen + 1  # the create in flight when stop() came, and nothing more
    last = controller.state.snapshot().last
    assert last is not None and "no longer the leader or stopping" in last.message
    lease = fleet_env.cluster.store.get("coordination.k8s.io", "leases", "edgefleet", namespace="default")
    assert lease["spec"]["holderIdentity"] == ""
