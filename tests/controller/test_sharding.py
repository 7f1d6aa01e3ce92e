"""Shard assignment (pure): stable, balanced, minimal movement; and the part of a plan a shard writes."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import msgspec
import pytest

from reconciler.controller.sharding import (
    fair_share,
    member_lease_name,
    shard_lease_name,
    shard_of,
    split_plan,
)
from reconciler.inventory.records import InventoryUpdate
from reconciler.manifests.fleet import JobPolicy
from reconciler.observed.inventories import InventoryStatus
from reconciler.observed.jobs import JobFacts
from reconciler.planner.model import Counts, JobDeletion, Plan, PlannedJob

GROUPS = [f"site-{i:04d}" for i in range(4000)]


def test_the_assignment_is_pinned_across_processes_and_versions() -> None:
    # Literal values: a change of hash would move groups on upgrade, and replicas of two
    # versions would disagree (both writing a group) during a rolling update.
    assert [shard_of(f"g{i}", 4) for i in range(8)] == [0, 0, 3, 3, 2, 2, 2, 0]
    assert [shard_of(g, 3) for g in ("shanghai", "beijing", "toll-gates", "vision")] == [1, 0, 2, 2]
    assert shard_of("anything", 1) == 0


@pytest.mark.parametrize("shards", [2, 3, 5, 8])
def test_groups_spread_evenly(shards: int) -> None:
    counts = Counter(shard_of(g, shards) for g in GROUPS)
    assert set(counts) == set(range(shards))
    ideal = len(GROUPS) / shards
    assert all(abs(n - ideal) < 0.1 * ideal for n in counts.values()), counts


@pytest.mark.parametrize("shards", [1, 2, 3, 7])
def test_one_more_shard_moves_only_groups_to_the_new_shard_and_about_one_in_n_plus_1(shards: int) -> None:
    before = {g: shard_of(g, shards) for g in GROUPS}
    after = {g: shard_of(g, shards + 1) for g in GROUPS}
    moved = [g for g in GROUPS if before[g] != after[g]]
    assert all(after[g] == shards for g in moved)  # nothing moves between old shards
    share = len(moved) / len(GROUPS)
    assert abs(share - 1 / (shards + 1)) < 0.05


def test_fewer_shards_move_only_the_removed_shards_groups() -> None:
    before = {g: shard_of(g, 4) for g in GROUPS}
    after = {g: shard_of(g, 3) for g in GROUPS}
    assert all(before[g] == 3 for g in GROUPS if before[g] != after[g])


def test_shard_count_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        shard_of("g", 0)


@pytest.mark.parametrize(("shards", "live", "share"), [(2, 1, 2), (2, 2, 1), (3, 2, 2), (3, 3, 1), (8, 3, 3),
                                                       (2, 0, 2)])
def test_fair_share_is_ceil_of_shards_over_live_members(shards: int, live: int, share: int) -> None:
    assert fair_share(shards, live) == share


def test_lease_names() -> None:
    assert shard_lease_name("edgefleet", 0) == "edgefleet-shard-0"
    name = member_lease_name("edgefleet", "host_1234-abcd")
    assert name.startswith("edgefleet-member-") and name == member_lease_name("edgefleet", "host_1234-abcd")
    assert name != member_lease_name("edgefleet", "host_other")


# ----- split_plan -----

POLICY = JobPolicy()


def job(name: str, group: str) -> PlannedJob:
    return PlannedJob(name=name, group=group, api_version="operations.kubeedge.io/v1alpha2", images=("a:1",),
                      node_names=("n1",), secret=None, policy=POLICY, revision="r", attempt=0)


def observed_job(name: str, nodes: list[str]) -> JobFacts:
    body = {"metadata": {"name": name}, "spec": {"imagePrePullTemplate": {"nodeNames": nodes}}}
    return msgspec.convert(body, JobFacts)


def update(node: str) -> InventoryUpdate:
    return InventoryUpdate(node=node, status=InventoryStatus(), exists=True, resource_version="1")


def two_groups_on_two_shards() -> tuple[str, str]:
    first = next(g for g in GROUPS if shard_of(g, 2) == 0)
    second = next(g for g in GROUPS if shard_of(g, 2) == 1)
    return first, second


def node_on(shard: int) -> str:
    return next(f"node-{i}" for i in range(100) if shard_of(f"node-{i}", 2) == shard)


def plan(**fields: object) -> Plan:
    base = Plan(revision="r", job_api_version="operations.kubeedge.io/v1alpha2", create=(), delete=(),
                deferred=(), inventory_updates=(), groups=(), summary=Counts(), group_total=0)
    return replace(base, **fields)  # type: ignore[arg-type]


def test_each_shard_writes_the_jobs_of_its_groups_and_the_parts_cover_the_plan() -> None:
    g0, g1 = two_groups_on_two_shards()
    whole = plan(create=(job("j0", g0), job("j1", g1)),
                 delete=(JobDeletion("old0", "obsolete", g0), JobDeletion("old1", "obsolete", g1)),
                 inventory_updates=(update(node_on(0)), update(node_on(1))))
    parts = split_plan(whole, [], 2, [0, 1])
    assert [j.name for j in parts[0].create] == ["j0"] and [j.name for j in parts[1].create] == ["j1"]
    assert [d.name for d in parts[0].delete] == ["old0"] and [d.name for d in parts[1].delete] == ["old1"]
    assert [u.node for u in parts[0].inventory_updates] == [node_on(0)]
    assert [u.node for u in parts[1].inventory_updates] == [node_on(1)]
    assert split_plan(whole, [], 2, [1]).keys() == {1}


def test_jobs_of_a_group_gone_from_the_repo_are_collected_by_the_one_shard_of_their_label() -> None:
    gone = "removed-group"
    whole = plan(delete=(JobDeletion("orphan", "group removed", gone),))
    owners = [s for s in (0, 1) if split_plan(whole, [], 2, [s])[s].delete]
    assert owners == [shard_of(gone, 2)]


def test_a_deletion_waits_while_its_nodes_evidence_is_written_in_another_shard() -> None:
    g0, _ = two_groups_on_two_shards()
    elsewhere, here = node_on(1), node_on(0)
    whole = plan(delete=(JobDeletion("stuck", "stuck", g0),), inventory_updates=(update(elsewhere),))
    jobs = [observed_job("stuck", [here, elsewhere])]
    assert split_plan(whole, jobs, 2, [0])[0].delete == ()
    # Once the other shard recorded it (no update left in the plan), the deletion goes.
    assert [d.name for d in split_plan(plan(delete=whole.delete), jobs, 2, [0])[0].delete] == ["stuck"]
    # Evidence in its own part is written first (inventories before deletes).
    same = plan(delete=whole.delete, inventory_updates=(update(here),))
    assert [d.name for d in split_plan(same, jobs, 2, [0])[0].delete] == ["stuck"]


def test_a_shard_outside_the_range_is_refused() -> None:
    with pytest.raises(ValueError, match="outside"):
        split_plan(plan(), [], 2, [2])
