"""Wave membership (stable across re-plans and node churn) and maintenance windows (across
midnight and DST, in named time zones), as table tests of the pure rules."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from reconciler.manifests.fleet import LabelRequirement
from reconciler.manifests.rollout_policy import RolloutPolicy, Wave, Window
from reconciler.planner.rollout import assign_waves
from reconciler.planner.rollout.waves import is_canary, wave_count
from reconciler.planner.rollout.windows import inside_window, next_opening

SHARES = RolloutPolicy(waves=(Wave(share=Decimal("0.1")), Wave(share=Decimal("0.5")), Wave(share=Decimal(1))))


def _nodes(count: int, start: int = 0) -> list[tuple[str, dict[str, str]]]:
    return [(f"shop-{i:05d}", {}) for i in range(start, start + count)]


def test_membership_is_the_same_on_every_replan_and_in_any_order() -> None:
    nodes = _nodes(500)
    first = assign_waves(SHARES, "r1", nodes)
    assert assign_waves(SHARES, "r1", list(reversed(nodes))) == first


def test_share_waves_are_close_to_their_share_and_cumulative() -> None:
    waves = [w for w, _ in assign_waves(SHARES, "r1", _nodes(10_000)).values()]
    assert 800 < waves.count(0) < 1200  # 10 %
    assert 3_500 < waves.count(1) < 4_500  # 50 % - 10 %
    assert waves.count(0) + waves.count(1) + waves.count(2) == 10_000


def test_node_churn_moves_no_remaining_node_between_share_waves() -> None:
    before = assign_waves(SHARES, "r1", _nodes(1000))
    after = assign_waves(SHARES, "r1", _nodes(700, start=300) + _nodes(200, start=5000))
    assert all(after[n][0] == before[n][0] for n in after if n in before)


def test_a_new_rollout_reshuffles_the_waves() -> None:
    one, two = assign_waves(SHARES, "r1", _nodes(200)), assign_waves(SHARES, "r2", _nodes(200))
    assert {n for n, (w, _) in one.items() if w == 0} != {n for n, (w, _) in two.items() if w == 0}


def test_count_waves_take_exactly_their_count_and_canaries_are_wave_zero() -> None:
    policy = RolloutPolicy(waves=(Wave(count=3), Wave(count=10), Wave(share=Decimal(1))),
                           canary=(("ring", "canary"),))
    nodes = [*_nodes(30), ("canary-a", {"ring": "canary"}), ("canary-b", {"ring": "canary"})]
    waves = assign_waves(policy, "r1", nodes)
    by_wave = [sorted(n for n, (w, _) in waves.items() if w == k) for k in range(4)]
    assert by_wave[0] == ["canary-a", "canary-b"]
    assert [len(w) for w in by_wave] == [2, 3, 7, 20]


SHANGHAI = Window("0 1 * * *", 4 * 3600, "Asia/Shanghai")
LATE = Window("0 23 * * *", 3 * 3600, "Europe/Berlin")  # across midnight
BERLIN_NIGHT = Window("0 1 * * *", 3 * 3600, "Europe/Berlin")


@pytest.mark.parametrize(("window", "now", "inside", "opens"), [
    # 01:00 Shanghai is 17:00 UTC the day before.
    pytest.param(SHANGHAI, datetime(2026, 12, 3, 16, 59, tzinfo=UTC), False,
                 datetime(2026, 12, 3, 17, 0, tzinfo=UTC), id="shanghai-just-before"),
    pytest.param(SHANGHAI, datetime(2026, 12, 3, 17, 0, tzinfo=UTC), True,
                 datetime(2026, 12, 4, 17, 0, tzinfo=UTC), id="shanghai-opening-instant"),
    pytest.param(SHANGHAI, datetime(2026, 12, 3, 20, 59, tzinfo=UTC), True,
                 datetime(2026, 12, 4, 17, 0, tzinfo=UTC), id="shanghai-last-minute"),
    pytest.param(SHANGHAI, datetime(2026, 12, 3, 21, 0, tzinfo=UTC), False,
                 datetime(2026, 12, 4, 17, 0, tzinfo=UTC), id="shanghai-closed-at-05"),
    # 23:00 CET + 3 h: still open at 01:30 the next day (00:30 UTC).
    pytest.param(LATE, datetime(2026, 1, 15, 0, 30, tzinfo=UTC), True,
                 datetime(2026, 1, 15, 22, 0, tzinfo=UTC), id="across-midnight"),
    pytest.param(LATE, datetime(2026, 1, 15, 1, 0, tzinfo=UTC), False,
                 datetime(2026, 1, 15, 22, 0, tzinfo=UTC), id="across-midnight-closed"),
    # Spring forward in Berlin, 2026-03-29 02:00 CET -> 03:00 CEST: the window opens at 01:00 CET
    # (00:00 UTC) and lasts three real hours, to 03:00 UTC = 05:00 CEST local.
    pytest.param(BERLIN_NIGHT, datetime(2026, 3, 29, 2, 30, tzinfo=UTC), True,
                 datetime(2026, 3, 29, 23, 0, tzinfo=UTC), id="dst-spring-elapsed-hours"),
    pytest.param(BERLIN_NIGHT, datetime(2026, 3, 29, 3, 0, tzinfo=UTC), False,
                 datetime(2026, 3, 29, 23, 0, tzinfo=UTC), id="dst-spring-closed"),
    # Fall back, 2026-10-25 03:00 CEST -> 02:00 CET: 01:00 CEST is 23:00 UTC the day before.
    pytest.param(BERLIN_NIGHT, datetime(2026, 10, 24, 23, 0, tzinfo=UTC), True,
                 datetime(2026, 10, 26, 0, 0, tzinfo=UTC), id="dst-fall-opens-at-local-one"),
])
def test_windows(window: Window, now: datetime, inside: bool, opens: datetime) -> None:
    assert inside_window([window], now) is inside
    assert next_opening([window], now) == opens


def test_no_window_means_always_open_and_any_window_opens() -> None:
    now = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
    assert inside_window([], now)
    assert next_opening([SHANGHAI, LATE], now) == datetime(2026, 12, 3, 17, 0, tzinfo=UTC)


CANARY_NODES = [
    ("early-shop", {"ring": "early", "tier": "shop"}),
    ("canary-shop", {"ring": "canary", "tier": "shop"}),
    ("frozen-canary", {"ring": "canary", "tier": "shop", "frozen": "yes"}),
    ("canary-lab", {"ring": "canary", "tier": "lab"}),
    ("plain-shop", {"tier": "shop"}),
    ("stable-shop", {"ring": "stable", "tier": "shop"}),
]


@pytest.mark.parametrize(("labels", "expressions", "canaries"), [
    pytest.param((), (LabelRequirement("ring", "In", ("canary", "early")),),
                 ["canary-lab", "canary-shop", "early-shop", "frozen-canary"], id="in"),
    pytest.param((), (LabelRequirement("ring", "NotIn", ("canary", "early")),),
                 ["plain-shop", "stable-shop"], id="not-in-includes-unlabelled"),
    pytest.param((("tier", "shop"),), (LabelRequirement("ring", "Exists"),),
                 ["canary-shop", "early-shop", "frozen-canary", "stable-shop"], id="exists"),
    pytest.param((), (LabelRequirement("ring", "DoesNotExist"),), ["plain-shop"], id="does-not-exist"),
    pytest.param((("tier", "shop"),), (LabelRequirement("frozen", "DoesNotExist"),
                                       LabelRequirement("ring", "In", ("canary", "early"))),
                 ["canary-shop", "early-shop"], id="labels-and-expressions"),
    pytest.param((("ring", "canary"),), (),
                 ["canary-lab", "canary-shop", "frozen-canary"], id="match-labels-only"),
])
def test_canary_selectors_pick_wave_zero(labels: tuple[tuple[str, str], ...],
                                         expressions: tuple[LabelRequirement, ...],
                                         canaries: list[str]) -> None:
    policy = RolloutPolicy(waves=(Wave(count=1), Wave(share=Decimal(1))), canary=labels,
                           canary_expressions=expressions)
    fillers = [(name, {"tier": "bulk", "ring": "stable"}) for name, _ in _nodes(20)]
    waves = assign_waves(policy, "r1", [*CANARY_NODES, *fillers])
    assert sorted(n for n, (w, _) in waves.items() if w == 0 and n in dict(CANARY_NODES)) == canaries
    assert wave_count(policy) == 3 and sum(1 for w, _ in waves.values() if w == 1) == 1
    assert all(is_canary(policy, dict(lab)) == (name in canaries) for name, lab in CANARY_NODES)
