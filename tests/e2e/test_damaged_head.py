"""The daemon's path when the newest commit cannot be read (its tree object is gone): the
branch follower marks it bad, cycles keep reconciling the last good revision, nothing of the
damaged commit reaches the cluster."""

from __future__ import annotations

import pygit2
import pytest

from reconciler.controller.gitpoll import BranchFollower
from reconciler.cycle import CycleResult, Outcome, sync_once
from reconciler.kube.cluster import LiveCluster
from tests.e2e.conftest import AGENT_V2, MOSQUITTO, Bed, fleet_files


@pytest.fixture
def kubeedge() -> str:
    return "1.21"  # the source path is the same for both job dialects


def cycle(bed: Bed, follower: BranchFollower) -> CycleResult:
    """One cycle as the daemon runs it: read through the follower, then tell it the verdict."""
    result = sync_once(read_revision=follower.read_revision, cluster=LiveCluster(bed.session),
                       settings=bed.settings, last_good=bed.last_good, now=bed.cluster.clock.now)
    bed.last_good = result.in_force
    if result.outcome is Outcome.STALLED and result.applied is None and result.errors:
        follower.record(result.revision, good=False, reason=result.message)
    elif result.ok and result.in_force is not None:
        follower.record(result.in_force.revision, good=True)
    return result


def test_a_head_with_a_missing_tree_keeps_the_last_good_revision_in_force(bed: Bed) -> None:
    follower = BranchFollower(str(bed.repo.path), "main", None, cache_dir=None,
                              on_new_revision=lambda _: None)
    follower.poll()
    for _ in range(12):
        if cycle(bed, follower).outcome is Outcome.CONVERGED:
            break
        bed.cluster.advance(120)
    good = bed.last_good
    assert good is not None and follower.status().last_good == good.revision

    head = bed.repo.commit(fleet_files(MOSQUITTO, AGENT_V2), "Bump the agent")
    commit = bed.repo.repo[head]
    assert isinstance(commit, pygit2.Commit)
    tree = str(commit.tree_id)
    (bed.repo.path / "objects" / tree[:2] / tree[2:]).unlink()
    assert follower.poll() == head

    bed.cluster.advance(120)
    result = cycle(bed, follower)
    assert result.ok, result.message
    assert result.revision == good.revision and result.in_force == good
    status = follower.status()
    assert status.bad == head and status.last_good == good.revision
    assert status.bad_reason is not None
    assert f"commit {head[:12]}" in status.bad_reason and f"tree {tree} is missing" in status.bad_reason
    assert not any(AGENT_V2 in str(job["spec"]) for job in bed.jobs().values())
    assert not follower.head_is_known_bad()  # cluster events keep reconciling the good revision
