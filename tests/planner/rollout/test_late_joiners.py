"""Late joiners enter the current wave (issue #11, docs/rollout.md): a node created after the
rollout started is served with the open wave instead of waiting for a later one; nodes that
were there from the start keep their hashed wave. Table tests of the pure rule, then through
`plan()` with a FleetRollout record."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from reconciler.kubeedge import V1ALPHA2
from reconciler.manifests.rollout_policy import RolloutPolicy, Wave
from reconciler.observed.rollouts import rollout_from_object
from reconciler.planner import Plan, plan
from reconciler.planner.rollout import assign_waves, rollout_id
from reconciler.planner.rollout.waves import place_late_joiners
from tests.fleet_builders import BELONGING, NOW, fleet, group, node_object, nodes_facts

STARTED = datetime(2025, 7, 1, 10, 0, tzinfo=UTC)
BEFORE, AFTER = STARTED - timedelta(days=1), STARTED + timedelta(minutes=5)


@pytest.mark.parametrize(("hashed", "created", "current", "started", "placed"), [
    pytest.param(3, AFTER, 1, STARTED, 1, id="joined-after-start-enters-the-open-wave"),
    pytest.param(3, BEFORE, 1, STARTED, 3, id="there-from-the-start-keeps-its-wave"),
    pytest.param(3, STARTED, 1, STARTED, 3, id="created-at-the-start-instant-is-not-late"),
    pytest.param(0, AFTER, 1, STARTED, 0, id="an-earlier-wave-stays-earlier"),
    pytest.param(1, AFTER, 1, STARTED, 1, id="already-in-the-open-wave"),
    pytest.param(2, None, 0, STARTED, 2, id="no-creation-time-keeps-its-wave"),
    pytest.param(2, AFTER, 0, None, 2, id="a-rollout-starting-now-has-no-late-joiners"),
])
def test_place_late_joiners(hashed: int, created: datetime | None, current: int,
                            started: datetime | None, placed: int) -> None:
    waves = {"late": (hashed, 42), "old": (3, 7)}
    times = {"late": created, "old": BEFORE}
    assert place_late_joiners(waves, times.get, started=started, current=current) == {
        "late": (placed, 42), "old": (3, 7)}


NGINX = "docker.io/library/nginx:1.25"
POLICY = RolloutPolicy(waves=(Wave(share=Decimal("0.25")), Wave(share=Decimal("0.5")),
                              Wave(share=Decimal(1))), pause_seconds=1800)
SHOPS = replace(group("shops", ["nginx:1.25"], node_group="shops"), rollout=POLICY)
NAMES = [f"shop-{i:02d}" for i in range(40)]


def _node(name: str, *, created: datetime, images: tuple[str, ...] = ()) -> dict[str, Any]:
    body = node_object(name, labels={BELONGING: "shops"}, images=[[i] for i in images])
    body["metadata"]["creationTimestamp"] = created.strftime("%Y-%m-%dT%H:%M:%SZ")
    return body


def _plan(nodes: list[dict[str, Any]], *, wave: int) -> Plan:
    record = rollout_from_object({"metadata": {"name": "shops"}, "spec": {"group": "shops"},
                                  "status": {"rolloutId": rollout_id(SHOPS), "wave": wave,
                                             "started": "2025-07-01T10:00:00Z"}})
    return plan(fleet(SHOPS), nodes_facts(*nodes), [], [], now=NOW, revision="c0ffee",
                job_api_version=V1ALPHA2, rollouts={"shops": record})


def test_a_node_joining_mid_rollout_gets_a_job_with_the_open_wave() -> None:
    hashed = assign_waves(POLICY, rollout_id(SHOPS), [(n, {}) for n in NAMES])
    # Pick late names whose hashed wave is the last one, so only the late-joiner rule serves them.
    late = [n for n in (f"shop-new-{i}" for i in range(40))
            if assign_waves(POLICY, rollout_id(SHOPS), [(n, {})])[n][0] == 2][:2]
    assert hashed and len(late) == 2
    wave0 = [n for n in NAMES if hashed[n][0] == 0]
    nodes = [_node(n, created=BEFORE, images=(NGINX,) if n in wave0 else ()) for n in NAMES]
    nodes += [_node(late[0], created=AFTER), _node(late[1], created=BEFORE)]
    result = _plan(nodes, wave=1)
    targeted = {n for job in result.create for n in job.node_names}
    reasons = {g.node: g.reason for g in result.gated}
    assert late[0] in targeted  # joined after the start: served with wave 1
    assert reasons[late[1]] == "waiting-wave"  # there from the start: waits for wave 2
    assert {n for n in NAMES if hashed[n][0] == 2} <= reasons.keys()
    assert result.rollouts[0].wave_sizes[1] == sum(1 for n in NAMES if hashed[n][0] == 1) + 1
