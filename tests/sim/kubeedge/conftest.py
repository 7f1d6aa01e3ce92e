"""Fixtures: an in-process embedded cluster on a manual clock (no HTTP, no threads)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from reconciler.sim.clock import ManualClock
from reconciler.sim.cluster import EmbeddedCluster
from reconciler.sim.kubeedge.prepull import Switches
from tests.sim.kubeedge.builders import CALM, MakeCluster


@pytest.fixture
def make_cluster() -> Iterator[MakeCluster]:
    made: list[EmbeddedCluster] = []

    def make(kubeedge: str = "1.21", switches: Switches | None = None, **kw: Any) -> EmbeddedCluster:
        kw.setdefault("nodes", 8)
        cluster = EmbeddedCluster(kubeedge=kubeedge, clock=ManualClock(), serve=False, fleet=CALM,
                                  switches=switches, heartbeat_seconds=None, **kw)
        made.append(cluster.start())
        return cluster

    yield make
    for cluster in made:
        cluster.stop()
        assert cluster.simulation.errors == []
