"""Fixtures of the Kubernetes adapter tests: the API server emulator over real HTTP, sessions of
the official client with a fake clock (so waits are counted, never slept)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.kube.session import ClientSettings, Session
from reconciler.kube.throttle import RetryPolicy
from reconciler.sim.apiserver.faults import Faults
from reconciler.sim.apiserver.store import Store
from reconciler.sim.served import new_store


class FakeTime:
    """A monotonic clock that only moves when something sleeps on it; records every sleep."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture(params=["1.21", "1.16"])
def kubeedge(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def store() -> Store:
    return new_store("1.21", seed=11)


@pytest.fixture
def faults() -> Faults:
    return Faults(seed=5)


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


def open_session(kubeconfig: Path, fake_time: FakeTime, **settings: object) -> Session:
    """A Session on `kubeconfig` whose QPS bucket and retry waits run on `fake_time`."""
    opened = Session.from_kubeconfig(kubeconfig)
    chosen = ClientSettings(**settings)  # type: ignore[arg-type]
    return Session(opened.api_client, chosen, clock=fake_time.clock, sleep=fake_time.sleep)


@pytest.fixture
def session(kubeconfig: Path, fake_time: FakeTime) -> Iterator[Session]:
    opened = open_session(kubeconfig, fake_time, qps=1000.0, burst=1000,
                          retry=RetryPolicy(max_attempts=5, base_delay=0.5, max_delay=30.0))
    yield opened
    opened.close()


def add_nodes(store: Store, count: int, *, prefix: str = "edge", ready: bool = True) -> list[str]:
    """Create `count` edge nodes (Ready or not) directly in the store; returns their names."""
    names = [f"{prefix}-{i:03d}" for i in range(count)]
    for name in names:
        store.create("", "nodes", {
            "apiVersion": "v1", "kind": "Node",
            "metadata": {"name": name, "labels": {"node-role.kubernetes.io/edge": ""}},
            "status": {"conditions": [{"type": "Ready", "status": "True" if ready else "False"}]},
        })
    return names
