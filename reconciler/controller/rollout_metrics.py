"""Rollout metrics (docs/rollout.md): why the last plan held work back, per group and reason,
and where each rollout stands. Registered on the controller's registry by ControllerMetrics."""

from __future__ import annotations

from collections import Counter

from prometheus_client import CollectorRegistry, Gauge

from reconciler.planner import Plan
from reconciler.planner.rollout import REASONS


class RolloutMetrics:
    """`edgefleet_rollout_*` gauges, set from each plan: every reason of every group with a
    rollout has a series (0 when nothing waits for it), so an alert needs no absent() guard."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.gated = Gauge(
            "edgefleet_rollout_gated_nodes", "Nodes with missing images of a group that the last "
            "plan held back, by group and reason (waiting-wave, waiting-window, waiting-bandwidth, "
            "halted, paused).", ["group", "reason"], registry=registry)
        self.wave = Gauge(
            "edgefleet_rollout_wave", "The highest open wave of the group's rollout (0: the first).",
            ["group"], registry=registry)
        self.halted = Gauge(
            "edgefleet_rollout_halted", "1 while the group's rollout is halted by its failure budget.",
            ["group"], registry=registry)
        self.paused = Gauge(
            "edgefleet_rollout_paused", "1 while the group's rollout is paused (`edgefleet rollout pause`).",
            ["group"], registry=registry)

    def record(self, plan: Plan | None) -> None:
        """Set the gauges from `plan`; a cycle without a plan keeps the last numbers."""
        if plan is None:
            return
        held = Counter((g.group, g.reason) for g in plan.gated)
        for gauge in (self.gated, self.wave, self.halted, self.paused):
            gauge.clear()  # groups come and go with commits
        for status in plan.rollouts:
            for reason in REASONS:
                self.gated.labels(status.group, reason).set(held[(status.group, reason)])
            self.wave.labels(status.group).set(status.wave)
            self.halted.labels(status.group).set(1 if status.halted else 0)
            self.paused.labels(status.group).set(1 if status.paused else 0)
