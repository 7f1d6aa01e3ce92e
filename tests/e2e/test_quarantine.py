"""One silent node must not hold its healthy neighbours hostage (KubeEdge 1.21, kubeedge#7049).

With concurrency 1 a silent node takes the only slot and never gives it back, and 1.21 measures
the timeout of the nodes queued behind it from the job's creation: they end `Unknown` like the
silent node although the edge was never asked. edgefleet charges only the node that was
dispatched and went silent, and gives it jobs of its own from then on.
"""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.sim.apiserver.errors import ApiError
from tests.e2e.conftest import AGENT_V1, MOSQUITTO, Bed, fleet_files

#: Cycles of 300 simulated seconds (one policy timeout each) the healthy nodes may take.
CYCLES = 12


@pytest.mark.parametrize("kubeedge", ["1.21"])
def test_a_silent_node_first_in_line_wedges_only_itself(bed: Bed) -> None:
    assert bed.cluster.switches.wedge_on_silent_node
    names = sorted(bed.cluster.edge_names())
    silent, healthy = names[0], names[1:]
    bed.cluster.nodes[silent].set_behaviour("silent")
    bed.repo.commit(fleet_files(MOSQUITTO, AGENT_V1, concurrency=1), "One pull at a time")

    charged: dict[str, set[str]] = {}  # node -> jobs that counted a failed attempt against it
    converged_at = None
    for cycle in range(CYCLES):
        result = bed.sync()
        assert result.plan is not None
        for node in names:
            for failure in _failures(bed, node):
                charged.setdefault(node, set()).add(failure["lastJob"])
        if all(bed.cluster.nodes[n].has_image(i) for n in healthy for i in (MOSQUITTO, AGENT_V1)):
            converged_at = cycle
            break
        bed.cluster.advance(300)
    else:
        present = sum(bed.cluster.nodes[n].has_image(i) for n in healthy for i in (MOSQUITTO, AGENT_V1))
        raise AssertionError(f"healthy nodes hold {present} of {2 * len(healthy)} pairs "
                             f"after {CYCLES} cycles")

    assert converged_at is not None and converged_at <= 8, f"converged only after {converged_at} cycles"
    assert not bed.cluster.nodes[silent].has_image(AGENT_V1)
    assert set(charged) <= {silent}, f"healthy nodes were charged: {sorted(set(charged) - {silent})}"

    # The silent node is reported, and retried alone: its own job never holds anyone else.
    bed.cluster.advance(600)
    later = bed.sync()
    assert later.plan is not None
    failures = bed.inventory(silent)["status"]["failures"]
    assert {f["image"] for f in failures} == {MOSQUITTO, AGENT_V1}
    assert all(f["attempts"] >= 1 for f in failures)
    counts = later.plan.summary
    # (backing off, in flight, or retried: its backoff runs from the timeout, not from the read)
    assert counts.pairs_desired - counts.pairs_present == 2
    for _ in range(6):
        result = bed.sync()
        assert result.plan is not None
        for job in result.plan.create:
            if silent in job.node_names:
                assert job.node_names == (silent,)
        bed.cluster.advance(600)
    for node in healthy:
        assert _failures(bed, node) == [], node


def _failures(bed: Bed, node: str) -> list[dict[str, Any]]:
    """The node's recorded failures that counted an attempt (records with 0 attempts only
    remember which jobs were read); none before its EdgeNodeInventory exists."""
    try:
        inventory = bed.inventory(node)
    except ApiError:
        return []
    failures: list[dict[str, Any]] = inventory.get("status", {}).get("failures", [])
    return [f for f in failures if f["attempts"] > 0]
