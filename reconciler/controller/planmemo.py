"""The daemon's plan step: `planner.plan_revision`, remembered across cycles, so an idle cycle
(nothing new, no moment passed that the plan depends on) does not plan again; idle.py decides.

`sync_once` still applies the reused plan and builds its result as for a new one, so the
status page, the metrics and the drift schedule see a complete outcome; the plan is quiet
(nothing to write), so that apply sends nothing and fencing has nothing to fence.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime

from reconciler.controller.idle import LastPlan, PlanInputs, is_quiet, next_change, why_plan
from reconciler.manifests.fleet import Fleet
from reconciler.observed import ClusterFacts
from reconciler.observed.rollouts import RolloutFacts
from reconciler.planner import Plan, PlannerSettings, plan_revision

log = logging.getLogger("edgefleet.controller")


class PlanMemo:
    """Callable like `plan_revision` (the arguments `sync_once` passes). Counters `planned`
    and `reused` are for tests, the bench and logs; `forget()` makes the next cycle plan.
    With `remember` False it always plans and keeps nothing: facts listed anew every cycle
    (`--no-watch-cache`) are new objects, so keeping the last ones would only hold memory."""

    def __init__(self, *, remember: bool = True) -> None:
        self._remember = remember
        self._last: LastPlan | None = None
        self.planned = self.reused = 0

    def forget(self) -> None:
        """Plan on the next call whatever happened (e.g. leadership was won again)."""
        self._last = None

    def __call__(self, fleet: Fleet, facts: ClusterFacts, *, now: datetime, revision: str | None,
                 settings: PlannerSettings,
                 rollouts: Mapping[str, RolloutFacts] | None = None) -> Plan:
        inputs = PlanInputs(fleet, revision, facts, rollouts, settings)
        reason = why_plan(self._last, inputs, now)
        if reason is None and self._last is not None:
            self.reused += 1
            return self._last.plan
        self._last = None  # if planning raises, nothing stale is kept
        plan = plan_revision(fleet, facts, now=now, revision=revision, settings=settings,
                             rollouts=rollouts)
        self.planned += 1
        if not self._remember:
            return plan
        effective = rollouts if rollouts is not None else facts.rollouts
        quiet = is_quiet(plan, effective)
        self._last = LastPlan(inputs, plan, now, next_change(plan, inputs, now) if quiet else None,
                              quiet)
        log.debug("planned: %s", reason)
        return plan
