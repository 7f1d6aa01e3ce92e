"""From a cycle result to what /status and /metrics show."""

from __future__ import annotations

from datetime import UTC, datetime

from reconciler.controller.digest import digest
from reconciler.controller.gitpoll import RevisionStatus
from reconciler.controller.view import GroupView
from reconciler.cycle.outcome import CycleResult, GoodRevision, Outcome
from reconciler.manifests.fleet import Fleet
from reconciler.planner.model import Counts, Deferral, GroupCounts, Plan

T0 = datetime(2026, 3, 1, tzinfo=UTC)
GOOD, BAD = "a" * 40, "b" * 40
HEAD_OK = RevisionStatus(head=GOOD, bad=None, bad_reason=None, last_good=GOOD, fetch_error=None)
HEAD_BAD = RevisionStatus(head=BAD, bad=BAD, bad_reason="groups/x.yaml:3:3: unknown key", last_good=GOOD,
                          fetch_error=None)


def plan() -> Plan:
    counts = Counts(nodes=3, pairs_desired=9, pairs_present=4, pairs_missing=2, pairs_unknown=1,
                    pairs_in_flight=2, pairs_backing_off=0, nodes_deferred=1, jobs_create=1)
    return Plan(revision=GOOD, job_api_version="operations.kubeedge.io/v1alpha2", create=(), delete=(),
                deferred=(Deferral("edge-3", "node is not Ready"),), inventory_updates=(),
                groups=(GroupCounts("berlin", False, counts),), summary=counts, group_total=1)


def test_a_planned_cycle_shows_its_groups_and_deferred_nodes() -> None:
    result = CycleResult(Outcome.PROGRESSING, "wrote 1 job", started_at=T0, revision=GOOD,
                         in_force=GoodRevision(GOOD, Fleet(groups=())), plan=plan())
    view = digest(result, None, HEAD_OK, attempt_limit=5, finished_at=T0, duration=0.5)
    assert view.groups == (GroupView("berlin", desired=9, present=4, missing=3, in_flight=2,
                                     deferred_nodes=1, pending_jobs=1),)
    assert not view.groups[0].converged
    assert [n.node for n in view.deferred] == ["edge-3"]
    assert (view.outcome, view.revision_in_force, view.revision_error) == ("progressing", GOOD, None)


def test_an_invalid_head_is_reported_and_the_last_fleet_stays_on_view() -> None:
    first = digest(CycleResult(Outcome.PROGRESSING, "ok", started_at=T0, revision=GOOD,
                               in_force=GoodRevision(GOOD, Fleet(groups=())), plan=plan()),
                   None, HEAD_OK, attempt_limit=5, finished_at=T0, duration=0.5)
    stalled = CycleResult(Outcome.STALLED, "revision bbbbbbbbbbbb is invalid", started_at=T0, revision=BAD,
                          in_force=GoodRevision(GOOD, Fleet(groups=())), errors=("x",))
    view = digest(stalled, None, HEAD_BAD, attempt_limit=5, finished_at=T0, duration=0.1, previous=first)
    assert view.outcome == "stalled"
    assert (view.revision_in_force, view.revision_seen) == (GOOD, BAD)
    assert view.revision_error == "groups/x.yaml:3:3: unknown key"
    assert view.groups == first.groups and view.deferred == first.deferred
