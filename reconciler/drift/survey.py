"""One drift report from a loaded revision and the observed cluster: plan, drift facts, report.

`survey` is pure (the plan the cycle would make, the reasons read off it, the report at `now`);
`survey_with_history` is its one shell: it reads the missingSince memory from the history,
appends the report's summary row with the new memory, and puts the trend in the report. The
`edgefleet drift` command, the daemon's scheduled job and the demo all go through here, so a
report reads the same wherever it is made.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

import msgspec

from reconciler.desired import desired_state
from reconciler.drift.aggregate import build_report
from reconciler.drift.facts import DriftFacts, PairKey, drift_facts
from reconciler.drift.history import DriftHistory
from reconciler.drift.registry_holds import transfer_of
from reconciler.drift.report import DriftReport, DriftSettings
from reconciler.inventory.evidence import infer_image_cap, list_truncated
from reconciler.manifests.fleet import Fleet
from reconciler.manifests.schedule import duration_seconds
from reconciler.observed import ClusterFacts
from reconciler.planner import PlannerSettings, plan_revision


@dataclass(frozen=True, slots=True)
class Survey:
    """A report and the drift facts it was made of (their missingSince is the memory to keep)."""

    report: DriftReport
    facts: DriftFacts


def drift_settings(fleet: Fleet, *, min_age_seconds: int | None = None) -> DriftSettings:
    """The report settings of the revision's FleetConfig spec.driftReport (defaults without
    one); `min_age_seconds` overrides its minAge (the command's --min-age)."""
    spec = fleet.drift_report
    base = DriftSettings() if spec is None else DriftSettings(
        site_label=spec.site_label, min_age_seconds=duration_seconds(spec.min_age))
    if min_age_seconds is None:
        return base
    return msgspec.structs.replace(base, min_age_seconds=min_age_seconds)


def survey(fleet: Fleet, facts: ClusterFacts, *, now: datetime, revision: str | None,
           previous: Mapping[PairKey, datetime] | None = None,
           settings: DriftSettings | None = None,
           planner: PlannerSettings = PlannerSettings()) -> Survey:
    """The drift of `fleet` (revision `revision`) on the cluster of `facts` at `now`. Pure.

    `previous` is the missingSince memory of the last report (none: every missing pair starts
    at `now`). Raises EmptyDesiredState as the plan does.
    """
    settings = settings if settings is not None else drift_settings(fleet)
    desired = desired_state(fleet, facts.nodes)  # resolved once, for the plan and the reasons
    absent: dict[str, tuple[str, ...]] = {}  # and each node's absent images, found once by the plan
    the_plan = plan_revision(fleet, facts, now=now, revision=revision, settings=planner, resolved=desired,
                             absent_into=absent)
    cap = planner.image_cap if planner.image_cap is not None else infer_image_cap(facts.nodes)
    truncated = (node.name for node in facts.nodes if list_truncated(node, cap))
    # Registry facts pin digests: the plan's desired state is then not `desired` (docs/registry.md).
    found = drift_facts(the_plan, desired, facts, now=now, previous=previous,
                        attempt_limit=planner.attempt_limit, truncated=truncated,
                        absent=absent if facts.registry is None else None)
    # The fleet is the nodes some group selects (not the control plane, not unselected nodes).
    fleet_nodes = [node for node in facts.nodes if node.name in desired.nodes]
    report = build_report(found.pairs, nodes=fleet_nodes, groups=found.groups, revision=revision,
                          now=now, settings=settings)
    if (transfer := transfer_of(the_plan)) is not None:  # planned with registry facts
        report = msgspec.structs.replace(report, transfer=transfer)
    return Survey(report, found)


def survey_with_history(fleet: Fleet, facts: ClusterFacts, history: DriftHistory, *, now: datetime,
                        revision: str | None, settings: DriftSettings | None = None,
                        planner: PlannerSettings = PlannerSettings()) -> Survey:
    """`survey` with the memory of `history`: ages survive restarts, the report is appended
    (with its new memory, in one transaction) and carries the trend up to and including it.
    `now` is taken to the whole second the history stores, so a pair reads the same age in
    this report as in the next. Raises HistoryError (sqlite3 failures) and EmptyDesiredState."""
    now = now.replace(microsecond=0)
    made = survey(fleet, facts, now=now, revision=revision, previous=history.missing_since(),
                  settings=settings, planner=planner)
    history.append(made.report, missing_since=made.facts.missing_since)
    report = msgspec.structs.replace(made.report, trend=history.trend(now=now))
    return Survey(report, made.facts)
