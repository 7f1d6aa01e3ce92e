"""Edge agents end to end: the embedded cluster's simulated nodes write `status.agent`, sync plans
over real HTTP from the complete inventory (nothing unknown), keeps the agents' subtree when it
records evidence, and re-pulls an image the edge removed after a job had confirmed it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.controller.digest import digest
from reconciler.controller.gitpoll import RevisionStatus
from tests.e2e.conftest import AGENT_V1, MOSQUITTO, Bed, make_bed
from tests.fleetrepo import FleetRepo


@pytest.fixture
def agent_bed(tmp_path: Path, served_repo: tuple[FleetRepo, str]) -> Iterator[Bed]:
    yield from make_bed("1.21", tmp_path, served_repo, agents=1.0)


def test_a_complete_inventory_leaves_nothing_unknown_and_an_eviction_is_repulled(agent_bed: Bed) -> None:
    bed = agent_bed
    nodes = sorted(bed.cluster.nodes)
    bed.cluster.advance(61)  # every agent has polled once
    first = bed.sync()
    assert first.plan is not None
    summary = first.plan.to_dict()["summary"]
    assert summary["pairsUnknown"] == 0
    assert summary["pairsMissing"] + summary["pairsPresent"] == 2 * len(nodes)
    assert first.plan.to_dict()["agent"]["nodesWithReport"] == len(nodes)
    bed.converge()
    victim = nodes[0]
    recorded = {i["image"] for i in bed.inventory(victim)["status"]["images"]}
    assert AGENT_V1 in recorded  # a job confirmed it
    # The reconciler's status writes left every agent report in place.
    assert all("agent" in bed.inventory(n)["status"] for n in nodes)

    assert bed.cluster.nodes[victim].remove_image(AGENT_V1)  # edge image GC / crictl rmi
    evicted = bed.sync()
    assert evicted.plan is not None
    assert evicted.plan.to_dict()["agent"]["pairsEvicted"] == 1
    assert [job.node_names for job in evicted.plan.create] == [(victim,)]
    seen = digest(evicted, None, RevisionStatus("x", None, None, "x", None), attempt_limit=5,
                  finished_at=bed.cluster.clock.now(), duration=0.1)
    assert dict(seen.agent)["pairsEvicted"] == 1  # what edgefleet_agent_inventory exports
    assert AGENT_V1 in evicted.plan.create[0].images
    # The inventory no longer claims the evicted image until a job confirms it again.
    assert AGENT_V1 not in {i["image"] for i in bed.inventory(victim)["status"]["images"]}
    bed.cluster.advance(120)
    bed.converge()
    assert bed.cluster.nodes[victim].has_image(AGENT_V1)
    assert bed.cluster.nodes[victim].has_image(MOSQUITTO)
    final = bed.sync()
    assert final.plan is not None and final.plan.create == ()
    assert final.plan.to_dict()["agent"]["pairsEvicted"] == 0
