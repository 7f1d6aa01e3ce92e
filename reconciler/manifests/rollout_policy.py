"""The resolved rollout policy of a group (part of the Fleet contract, see fleet.py): frozen,
hashable values, every key defaulted. Read by the pure rollout rules (planner/rollout.py)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # fleet.py imports this module
    from reconciler.manifests.fleet import LabelRequirement


@dataclass(frozen=True, slots=True, order=True)
class Wave:
    """The cumulative size of the group's rollout once this wave is done: `count` nodes, or the
    `share` (0 < share <= 1) of the group's nodes. Exactly one is set."""

    count: int | None = None
    share: Decimal | None = None


@dataclass(frozen=True, slots=True, order=True)
class Window:
    """Pulls may start from each firing of `schedule` (crontab, in `timezone`) for `seconds`."""

    schedule: str
    seconds: int
    timezone: str = "UTC"


@dataclass(frozen=True, slots=True, order=True)
class Bandwidth:
    """At most `max_per_site` nodes with the same `site_label` value pull at once."""

    max_per_site: int
    site_label: str = "topology.kubernetes.io/zone"


@dataclass(frozen=True, slots=True)
class RolloutPolicy:
    """How a group's new images reach its nodes. No waves: one wave of every node. The canary
    selector (matchLabels pairs, sorted, AND matchExpressions requirements) is wave 0 when
    either is set; the listed waves follow, the last one taking every remaining node.
    `failure_budget` is a share of the nodes tried (0..1)."""

    waves: tuple[Wave, ...] = ()
    canary: tuple[tuple[str, str], ...] = ()
    canary_expressions: tuple[LabelRequirement, ...] = ()
    failure_budget: Decimal = Decimal(1)
    pause_seconds: int = 0
    windows: tuple[Window, ...] = ()
    bandwidth: Bandwidth | None = None

    @property
    def has_canary(self) -> bool:
        """Whether a canary selector forms wave 0."""
        return bool(self.canary or self.canary_expressions)
