"""Injected faults as a client sees them."""

from __future__ import annotations

import json

import pytest
import urllib3
from kubernetes import client, watch
from kubernetes.client.rest import ApiException

from reconciler.sim.apiserver.faults import Faults
from reconciler.sim.apiserver.store import Store
from tests.sim.apiserver.builders import edge_node


@pytest.fixture
def raw_core(api_client: client.ApiClient) -> client.CoreV1Api:
    """A typed client whose HTTP pool does not retry: every answer reaches the caller."""
    configuration = api_client.configuration
    configuration.retries = 0
    return client.CoreV1Api(client.ApiClient(configuration))


def test_throttling_answers_429_with_retry_after_then_recovers(raw_core: client.CoreV1Api,
                                                               faults: Faults) -> None:
    core = raw_core
    core.create_node(edge_node("edge-0"))
    faults.throttle_rate, faults.retry_after, faults.verbs = 1.0, 7, frozenset({"list"})
    with pytest.raises(ApiException) as throttled:
        core.list_node()
    assert throttled.value.status == 429
    assert throttled.value.headers["Retry-After"] == "7"
    assert json.loads(throttled.value.body)["reason"] == "TooManyRequests"
    assert core.read_node("edge-0").metadata.name == "edge-0"  # other verbs unaffected
    faults.reset()
    assert [n.metadata.name for n in core.list_node().items] == ["edge-0"]
    assert faults.injected["throttle"] == 1


def test_server_errors_at_a_rate_are_reproducible_with_a_seed(core: client.CoreV1Api,
                                                              faults: Faults) -> None:
    def outcomes() -> list[int]:
        codes = []
        for _ in range(20):
            try:
                core.list_namespace()
                codes.append(200)
            except ApiException as exc:
                codes.append(exc.status)
        return codes

    faults.error_rate = 0.5
    faults.__post_init__()  # reseed
    first = outcomes()
    faults.__post_init__()
    assert outcomes() == first
    assert set(first) == {200, 500}


def test_forced_conflicts_hit_the_next_updates_only(core: client.CoreV1Api, faults: Faults) -> None:
    core.create_node(edge_node("edge-0"))
    faults.conflicts = 1
    with pytest.raises(ApiException) as conflicted:
        core.patch_node("edge-0", {"metadata": {"labels": {"a": "b"}}})
    assert (conflicted.value.status, json.loads(conflicted.value.body)["reason"]) == (409, "Conflict")
    assert core.patch_node("edge-0", {"metadata": {"labels": {"a": "b"}}}).metadata.labels["a"] == "b"


def test_dropped_watch_ends_mid_stream(core: client.CoreV1Api, faults: Faults) -> None:
    for i in range(5):
        core.create_node(edge_node(f"edge-{i}"))
    faults.drop_watch_after_events = 2
    received: list[str] = []
    with pytest.raises(urllib3.exceptions.ProtocolError):
        for event in watch.Watch().stream(core.list_node, timeout_seconds=5):
            received.append(event["object"].metadata.name)
    assert received == ["edge-0", "edge-1"]
    assert faults.injected["drop"] == 1


def test_added_latency_makes_short_client_timeouts_fire(raw_core: client.CoreV1Api, faults: Faults,
                                                        store: Store) -> None:
    core = raw_core
    faults.latency = 0.5
    with pytest.raises(urllib3.exceptions.MaxRetryError) as timed_out:
        core.list_node(_request_timeout=0.1)
    assert isinstance(timed_out.value.reason, urllib3.exceptions.ReadTimeoutError)
    faults.latency = 0
    assert core.list_node().metadata.resource_version == store.resource_version
