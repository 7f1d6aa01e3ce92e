"""Suite-wide fixtures."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

# `server` and `kubeconfig` over a directory's own `store` and `faults` (tests/kube, tests/sim/apiserver).
pytest_plugins = ["tests.apiserver_fixtures"]


@pytest.fixture(autouse=True)
def private_kubectl_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Give every test's kubectl its own discovery cache.

    kubectl caches discovery per host:port for hours. Embedded clusters of different KubeEdge
    releases (1.21 serves ImagePrePullJob at v1alpha2, 1.16 only at v1alpha1) reuse port
    numbers across tests, so a shared cache makes kubectl ask a 1.16 cluster for v1alpha2.
    """
    cache = tmp_path_factory.mktemp("kubectl-cache")
    monkeypatch.setenv("KUBECACHEDIR", str(cache))
    return cache


@pytest.fixture(autouse=True)
def restore_root_logging() -> Iterator[None]:
    """CLI commands run in-process (CliRunner) point the root logger at a stream that is closed
    once the command returns; put the test runner's handlers back after every test."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
