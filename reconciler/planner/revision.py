"""The one plan step every caller shares: `sync_once` (and so the daemon), `edgefleet plan`,
and the reports built on a plan (drift, review). One place decides how a loaded revision and
the observed cluster become a Plan, so that what `plan` shows is what `sync` does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, timedelta

from reconciler.desired import DesiredState
from reconciler.manifests.fleet import Fleet
from reconciler.observed import ClusterFacts
from reconciler.observed.rollouts import RolloutFacts
from reconciler.planner.agent_trust import AgentTrust
from reconciler.planner.changes import diff_fleets
from reconciler.planner.model import Plan
from reconciler.planner.planning import plan
from reconciler.planner.settings import PlannerSettings


def plan_revision(fleet: Fleet, facts: ClusterFacts, *, now: datetime, revision: str | None,
                  settings: PlannerSettings, base: Fleet | None = None,
                  base_revision: str | None = None,
                  rollouts: Mapping[str, RolloutFacts] | None = None,
                  resolved: DesiredState | None = None,
                  absent_into: dict[str, tuple[str, ...]] | None = None) -> Plan:
    """Plan `fleet` (the revision `revision`) against `facts` at `now`. Pure.

    With `base` (the fleet of the revision a change starts from, e.g. the pull request's target
    branch), the plan carries a `changes` section: what the change adds and removes per group,
    over the same nodes. `rollouts` are the FleetRollout facts by group (docs/rollout.md);
    `facts.registry`, when set, feeds the registry rules (docs/registry.md).
    `resolved` is desired_state(fleet, facts.nodes) when the caller computed it already;
    `absent_into` collects each node's absent images (see `plan`).
    Edge agent reports are trusted as the FleetConfig's `agentReports` says (docs/agent.md).
    Raises EmptyDesiredState as `plan` does.
    """
    the_plan = plan(fleet, facts.nodes, facts.jobs, facts.inventories, now=now, revision=revision,
                    job_api_version=facts.job_api_version, settings=settings,
                    secrets=facts.secrets, registry=facts.registry, resolved=resolved,
                    rollouts=rollouts if rollouts is not None else facts.rollouts, agents=agent_trust(fleet),
                    absent_into=absent_into)
    if base is None:
        return the_plan
    return replace(the_plan, changes=diff_fleets(base, fleet, facts.nodes, base_revision=base_revision))


def agent_trust(fleet: Fleet) -> AgentTrust:
    """How far `fleet` trusts edge agent reports: its FleetConfig's spec.agentReports."""
    return AgentTrust(stale_after=timedelta(seconds=fleet.agent_stale_after_seconds),
                      gc_high_percent=float(fleet.agent_gc_high_percent))
