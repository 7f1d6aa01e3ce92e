"""The rollout rules through `plan()`: one named case each (docs/rollout.md). What a user sees
is which nodes get jobs, the reason every other node is held back, and the rollout status."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from reconciler.kubeedge import V1ALPHA2
from reconciler.manifests.rollout_policy import Bandwidth, RolloutPolicy, Wave, Window
from reconciler.observed import inventory_from_object
from reconciler.observed.rollouts import RolloutFacts, rollout_from_object
from reconciler.planner import Plan, plan
from reconciler.planner.rollout import assign_waves, rollout_id
from tests.fleet_builders import BELONGING, NOW, fleet, group, node_object, nodes_facts

NGINX = "docker.io/library/nginx:1.25"
WAVES = RolloutPolicy(waves=(Wave(count=2), Wave(count=4), Wave(share=Decimal(1))),
                      failure_budget=Decimal("0.5"), pause_seconds=1800)
NAMES = [f"shop-{i}" for i in range(8)]


def _group(policy: RolloutPolicy = WAVES, image: str = "nginx:1.25") -> Any:
    return replace(group("shops", [image], node_group="shops"), rollout=policy)


def _waves(policy: RolloutPolicy = WAVES) -> list[list[str]]:
    rid = rollout_id(_group(policy))
    waves = assign_waves(policy, rid, [(n, {}) for n in NAMES])
    return [sorted(n for n, (w, _) in waves.items() if w == k) for k in range(3)]


def _node(name: str, *, images: tuple[str, ...] = (), site: str = "a") -> dict[str, Any]:
    return node_object(name, labels={BELONGING: "shops", "site": site}, images=[[i] for i in images])


def _failed(node: str) -> Any:
    return inventory_from_object({"metadata": {"name": node, "resourceVersion": "1"}, "status": {
        "failures": [{"image": NGINX, "attempts": 1, "lastError": "not found",
                      "lastAttempt": "2025-07-01T11:00:00Z", "lastJob": "ef-x",
                      "retryAfter": "2025-07-01T11:30:00Z"}]}})


def _record(**status: Any) -> dict[str, RolloutFacts]:
    body = {"rolloutId": rollout_id(_group()), "started": "2025-07-01T10:00:00Z", **status}
    return {"shops": rollout_from_object({"metadata": {"name": "shops"},
                                          "spec": {"group": "shops"}, "status": body})}


def _plan(nodes: list[dict[str, Any]], *, the_group: Any = None, inventories: Any = (),
          records: dict[str, RolloutFacts] | None = None, now: datetime = NOW) -> Plan:
    return plan(fleet(the_group or _group()), nodes_facts(*nodes), [], list(inventories), now=now,
                revision="c0ffee", job_api_version=V1ALPHA2, rollouts=records)


def _targeted(result: Plan) -> list[str]:
    return sorted(n for job in result.create for n in job.node_names)


def _reasons(result: Plan) -> dict[str, str]:
    return {g.node: g.reason for g in result.gated}


def test_a_new_rollout_targets_wave_zero_only() -> None:
    waves = _waves()
    result = _plan([_node(n) for n in NAMES])
    assert _targeted(result) == waves[0]
    assert _reasons(result) == {n: "waiting-wave" for n in waves[1] + waves[2]}
    (status,) = result.rollouts
    assert (status.wave, status.wave_sizes, status.started) == (0, (2, 2, 4), NOW)


def test_without_a_policy_the_plan_is_unchanged() -> None:
    result = _plan([_node(n) for n in NAMES], the_group=group("shops", ["nginx:1.25"], node_group="shops"))
    assert _targeted(result) == NAMES and result.gated == () and result.rollouts == ()


def test_a_done_wave_opens_the_next_only_after_its_pause() -> None:
    waves = _waves()
    nodes = [_node(n, images=(NGINX,) if n in waves[0] else ()) for n in NAMES]
    soaking = _plan(nodes)
    assert soaking.create == () and soaking.rollouts[0].wave_done_at == NOW
    assert soaking.revisit_at == NOW + timedelta(minutes=30)
    done_at = _record(wave=0, waveDoneAt="2025-07-01T11:40:00Z")
    assert _plan(nodes, records=done_at).create == ()  # 20 of 30 minutes
    opened = _plan(nodes, records=_record(wave=0, waveDoneAt="2025-07-01T11:30:00Z"))
    assert _targeted(opened) == waves[1] and opened.rollouts[0].wave == 1


def test_a_wave_with_a_pending_node_does_not_open_the_next() -> None:
    waves = _waves()
    nodes = [_node(n, images=(NGINX,) if n == waves[0][0] else ()) for n in NAMES]
    result = _plan(nodes, records=_record(wave=0, waveDoneAt="2025-07-01T10:00:00Z"))
    assert _targeted(result) == [waves[0][1]]
    assert result.rollouts[0].wave == 0 and result.rollouts[0].wave_done_at is None


def test_failures_exactly_at_the_budget_do_not_halt() -> None:
    waves = _waves()
    nodes = [_node(n, images=(NGINX,) if n == waves[0][0] else ()) for n in NAMES]
    result = _plan(nodes, inventories=[_failed(waves[0][1])],
                   records=_record(wave=0, waveDoneAt="2025-07-01T11:00:00Z"))
    assert result.rollouts[0].halted == "" and result.rollouts[0].wave == 1  # 1 of 2 = 50 %
    assert _targeted(result) == sorted([waves[0][1], *waves[1]])


def test_failures_over_the_budget_halt_every_new_pull() -> None:
    waves = _waves()
    nodes = [_node(n) for n in NAMES]
    result = _plan(nodes, inventories=[_failed(n) for n in waves[0]])
    (status,) = result.rollouts
    assert status.halted.startswith("2 of 2 nodes tried failed") and status.budget_used == "100.0%"
    assert result.create == ()
    assert set(_reasons(result).values()) == {"halted"}


def test_a_halt_stays_until_resumed_or_a_new_commit() -> None:
    waves = _waves()
    nodes = [_node(n, images=(NGINX,) if n in waves[0] else ()) for n in NAMES]
    halted = _record(wave=0, halted="2 of 2 nodes tried failed")
    assert _plan(nodes, records=halted).create == ()
    resumed = _plan(nodes, records=_record(wave=0, waveDoneAt="2025-07-01T11:00:00Z",
                                           acceptedFailures=2))
    assert _targeted(resumed) == waves[1]
    new_commit = _plan(nodes, the_group=_group(image="nginx:1.27"), records=halted)
    assert new_commit.rollouts[0].halted == "" and new_commit.rollouts[0].wave == 0


def test_a_paused_rollout_starts_nothing() -> None:
    record = {"shops": rollout_from_object({"metadata": {"name": "shops"}, "spec": {"paused": True}})}
    result = _plan([_node(n) for n in NAMES], records=record)
    assert result.create == () and set(_reasons(result).values()) == {"paused"}


def test_outside_every_window_nothing_starts_and_the_plan_wakes_at_the_opening() -> None:
    policy = RolloutPolicy(windows=(Window("0 1 * * *", 4 * 3600, "Asia/Shanghai"),))
    closed = _plan([_node(n) for n in NAMES], the_group=_group(policy))  # 20:00 in Shanghai
    assert closed.create == () and set(_reasons(closed).values()) == {"waiting-window"}
    assert closed.revisit_at == datetime(2025, 7, 1, 17, 0, tzinfo=UTC)
    opened = _plan([_node(n) for n in NAMES], the_group=_group(policy),
                   now=datetime(2025, 7, 1, 17, 0, tzinfo=UTC))
    assert _targeted(opened) == NAMES


def test_per_site_limit_cuts_jobs_per_site() -> None:
    policy = RolloutPolicy(bandwidth=Bandwidth(2, "site"))
    nodes = [_node(n, site="a" if i < 5 else "b") for i, n in enumerate(NAMES)]
    result = _plan(nodes, the_group=_group(policy))
    targeted = _targeted(result)
    assert len([n for n in targeted if NAMES.index(n) < 5]) == 2
    assert len([n for n in targeted if NAMES.index(n) >= 5]) == 2
    assert sorted(_reasons(result).values()) == ["waiting-bandwidth"] * 4
