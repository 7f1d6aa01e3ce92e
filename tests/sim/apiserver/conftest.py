"""Fixtures for the API server emulator tests: a fresh store and a running server per test,
clients of the official Python library, and real kubectl."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client, config

from reconciler.sim.apiserver.faults import Faults
from reconciler.sim.apiserver.store import Store
from reconciler.sim.served import new_store
from tests.sim.apiserver.builders import KUBECTL, Kubectl


@pytest.fixture
def store() -> Store:
    return new_store("1.21", seed=7, bookmark_interval=0.2)


@pytest.fixture
def faults() -> Faults:
    return Faults(seed=3)


@pytest.fixture
def api_client(kubeconfig: Path) -> Iterator[client.ApiClient]:
    configuration = client.Configuration()
    config.load_kube_config(config_file=str(kubeconfig), client_configuration=configuration)
    with client.ApiClient(configuration) as api:
        yield api


@pytest.fixture
def core(api_client: client.ApiClient) -> client.CoreV1Api:
    return client.CoreV1Api(api_client)


@pytest.fixture
def custom(api_client: client.ApiClient) -> client.CustomObjectsApi:
    return client.CustomObjectsApi(api_client)


@pytest.fixture
def kubectl(kubeconfig: Path) -> Kubectl:
    if not KUBECTL.exists():
        pytest.fail(f"kubectl not installed next to the interpreter: {KUBECTL}")
    return Kubectl(kubeconfig)
