"""Suite-wide fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest


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
