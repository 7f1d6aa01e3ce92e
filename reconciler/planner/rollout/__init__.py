"""Rollouts (docs/rollout.md): waves with a failure budget, maintenance windows and per-site
bandwidth, as pure rules over a plan's work. `gate_work` is what `planner.plan` calls."""

from reconciler.planner.rollout.gate import RolloutGate, gate_work
from reconciler.planner.rollout.model import REASONS, Gated, GateReason, RolloutStatus
from reconciler.planner.rollout.waves import assign_waves, rollout_id

__all__ = ["REASONS", "GateReason", "Gated", "RolloutGate", "RolloutStatus", "assign_waves",
           "gate_work", "rollout_id"]
