"""Planner settings: an explicit frozen value, passed to every call (never a module global)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from reconciler.inventory.records import RetryPolicy


@dataclass(frozen=True, slots=True)
class PlannerSettings:
    """Knobs of the planning rules (docs/design.md §4).

    - backoff_base / backoff_cap / attempt_limit: retries of a failed (node, image) pair.
    - ttl_after_finished: a finished job is collected this long after its last status report,
      once its evidence is recorded; keep_newest finished jobs per group are always kept.
    - stuck_slack / stuck_grace: a running job is stuck (kubeedge#7049) past
      created + node timeout x ceil(nodes / concurrency) x slack + grace, and a running
      v1alpha2 job also once no node has reported for node timeout x slack + grace.
    - pending_grace: a job still without a phase this long after creation is stuck too
      (no KubeEdge controller-manager, or an unknown node name on v1alpha1, kubeedge#5531).
    - image_cap: kubelet's nodeStatusMaxImages: None infers it from the nodes, -1 means lists
      are complete.
    """

    backoff_base: timedelta = timedelta(minutes=5)
    backoff_cap: timedelta = timedelta(hours=6)
    attempt_limit: int = 5
    ttl_after_finished: timedelta = timedelta(hours=1)
    keep_newest: int = 3
    stuck_slack: float = 2.0
    stuck_grace: timedelta = timedelta(minutes=5)
    pending_grace: timedelta = timedelta(minutes=10)
    image_cap: int | None = None

    @property
    def retry(self) -> RetryPolicy:
        """The retry part, as the inventory records need it."""
        return RetryPolicy(self.backoff_base, self.backoff_cap, self.attempt_limit)
