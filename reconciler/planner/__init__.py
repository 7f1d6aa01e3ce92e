"""The planner: desired state x inventory x existing jobs -> Plan (pure, deterministic)."""

from reconciler.planner.changes import FleetChanges, GroupChange, diff_fleets
from reconciler.planner.model import (
    GROUP_LABEL,
    MANAGED_BY_LABEL,
    MANAGED_BY_VALUE,
    PLAN_API_VERSION,
    REVISION_ANNOTATION,
    Counts,
    Deferral,
    GroupCounts,
    JobDeletion,
    Plan,
    PlannedJob,
)
from reconciler.planner.planning import EmptyDesiredState, plan
from reconciler.planner.revision import plan_revision
from reconciler.planner.settings import PlannerSettings

__all__ = [
    "GROUP_LABEL",
    "MANAGED_BY_LABEL",
    "MANAGED_BY_VALUE",
    "PLAN_API_VERSION",
    "REVISION_ANNOTATION",
    "Counts",
    "Deferral",
    "EmptyDesiredState",
    "FleetChanges",
    "GroupChange",
    "GroupCounts",
    "JobDeletion",
    "Plan",
    "PlannedJob",
    "PlannerSettings",
    "diff_fleets",
    "plan",
    "plan_revision",
]
