"""The served API server fixtures shared by the emulator's own tests (tests/sim/apiserver) and
the Kubernetes adapter's tests (tests/kube): each directory's conftest imports them and defines
its own `store` and `faults` (seeds and bookmark timing differ per suite)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.sim.apiserver.faults import Faults
from reconciler.sim.apiserver.server import ApiServer
from reconciler.sim.apiserver.store import Store


@pytest.fixture
def server(store: Store, faults: Faults) -> Iterator[ApiServer]:
    """The emulator serving `store` over HTTP on 127.0.0.1, with `faults` injectable."""
    with ApiServer(store, faults=faults) as running:
        yield running


@pytest.fixture
def kubeconfig(server: ApiServer, tmp_path: Path) -> Path:
    """A kubeconfig file for `server`."""
    return server.write_kubeconfig(tmp_path / "kubeconfig")
