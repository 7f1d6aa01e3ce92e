"""What the rollout rules decide: the gated (node, group) pairs with their reason, and the new
progress of each group's rollout (written to its FleetRollout status by the reconciler)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Final, Literal, NamedTuple

GateReason = Literal["waiting-wave", "waiting-window", "waiting-bandwidth", "halted", "paused"]
REASONS: Final[tuple[GateReason, ...]] = (
    "waiting-wave", "waiting-window", "waiting-bandwidth", "halted", "paused")


class Gated(NamedTuple):
    """A node with missing images of `group` that gets no job now, and why (a NamedTuple: a
    plan of 100,000 nodes may hold nearly as many)."""

    node: str
    group: str
    reason: GateReason


def iso(moment: datetime | None) -> str:
    """RFC 3339 in UTC with a Z, or "" for None (how FleetRollout status stores times)."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment is not None else ""


@dataclass(frozen=True, slots=True)
class RolloutStatus:
    """One group's rollout after this pass. Counts are over the nodes of the open waves
    (`tried` = done + failed); `wave_sizes` counts the nodes of every wave."""

    group: str
    rollout_id: str
    wave: int
    wave_sizes: tuple[int, ...]
    started: datetime
    wave_done_at: datetime | None
    halted: str
    paused: bool
    accepted_failures: int
    budget: Decimal
    total: int
    done: int
    failed: int
    next_step: str
    next_at: datetime | None = None

    @property
    def tried(self) -> int:
        return self.done + self.failed

    @property
    def budget_used(self) -> str:
        """Failed (beyond the accepted ones) over tried, as a percentage text."""
        counted = max(self.failed - self.accepted_failures, 0)
        return f"{(Decimal(100) * counted / self.tried) if self.tried else Decimal(0):.1f}%"

    def to_status(self) -> dict[str, Any]:
        """The FleetRollout `status` object (camelCase; times RFC 3339 UTC)."""
        return {
            "rolloutId": self.rollout_id, "wave": self.wave, "waves": len(self.wave_sizes),
            "waveSizes": list(self.wave_sizes), "started": iso(self.started),
            "waveDoneAt": iso(self.wave_done_at), "halted": self.halted,
            "acceptedFailures": self.accepted_failures, "nodesTotal": sum(self.wave_sizes),
            "nodesDone": self.done, "nodesFailed": self.failed,
            "failureBudget": f"{self.budget * 100:.1f}%", "budgetUsed": self.budget_used,
            "nextStep": self.next_step, "nextAt": iso(self.next_at),
        }
