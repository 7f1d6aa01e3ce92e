"""A registry that does not answer gives "unknown" with a warning, never an exception; many
images are asked once each, a bounded number at a time."""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Iterator

import httpx
import pytest

from reconciler.registry import RegistryClient, RegistrySettings, inspect_images
from tests.gitserve import free_port

from .conftest import FakeClock, Pushed, RequestLog


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never answers (a hung registry)."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(16)
        yield server.getsockname()[1]


def test_a_closed_port_gives_unknown_and_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    host = f"127.0.0.1:{free_port()}"
    settings = RegistrySettings(insecure=frozenset({host}), timeout_seconds=2)
    with RegistryClient(settings) as client, caplog.at_level(logging.WARNING, logger="reconciler.registry"):
        facts = client.inspect(f"{host}/app/api:1")
    assert facts.exists is None and facts.digest is None
    assert facts.error is not None and f"registry {host} did not answer: ConnectError" in facts.error
    assert [r.getMessage() for r in caplog.records] == [
        f"registry facts unknown for {host}/app/api:1: {facts.error}"
    ]


def test_a_hung_registry_gives_unknown_after_the_timeout_and_is_not_asked_again(silent_port: int) -> None:
    host = f"127.0.0.1:{silent_port}"
    clock = FakeClock()
    requests = RequestLog()
    settings = RegistrySettings(insecure=frozenset({host}), timeout_seconds=0.3, down_seconds=30)
    with RegistryClient(settings, clock=clock, event_hooks={"request": [requests.hook]}) as client:
        first = client.inspect(f"{host}/app/api:1")
        second = client.inspect(f"{host}/app/web:1")
        clock.now += 31
        third = client.inspect(f"{host}/app/web:1")
    assert first.exists is None and "ReadTimeout" in (first.error or "")
    assert second.exists is None and "did not answer recently" in (second.error or "")
    assert third.exists is None and "ReadTimeout" in (third.error or "")
    assert requests.lines == ["HEAD /v2/app/api/manifests/1", "HEAD /v2/app/web/manifests/1"]


def test_many_images_one_batch_each_asked_once_then_cached(
    client: RegistryClient, pushed: Pushed, requests: RequestLog
) -> None:
    dead = f"127.0.0.1:{free_port()}"
    images = [pushed.ref("test/multi:1"), pushed.ref("test/single:1"), pushed.ref("test/multi:gone")]
    wanted = [*images, f"{dead}/x/y:1"] * 50  # many nodes want the same few images
    facts = inspect_images(client, wanted, max_concurrency=4)
    assert sorted(facts) == sorted(set(wanted))
    assert [facts[i].exists for i in images] == [True, True, False]
    assert facts[f"{dead}/x/y:1"].exists is None
    heads = [line for line in requests.lines if line.startswith("HEAD")]
    assert sorted(heads) == sorted(
        [
            "HEAD /v2/test/multi/manifests/1",
            "HEAD /v2/test/single/manifests/1",
            "HEAD /v2/test/multi/manifests/gone",
            "HEAD /v2/x/y/manifests/1",
        ]
    )
    requests.lines.clear()
    again = inspect_images(client, images)
    assert requests.lines == []
    assert {i: again[i] for i in images} == {i: facts[i] for i in images}


def test_concurrency_is_bounded(pushed: Pushed) -> None:
    lock = threading.Lock()
    in_flight = [0, 0]  # now, most

    def started(_request: httpx.Request) -> None:
        with lock:
            in_flight[0] += 1
            in_flight[1] = max(in_flight[1], in_flight[0])

    def finished(_response: httpx.Response) -> None:
        with lock:
            in_flight[0] -= 1

    settings = RegistrySettings(insecure=frozenset({pushed.registry.host}), max_concurrency=2)
    hooks = {"request": [started], "response": [finished]}
    with RegistryClient(settings, event_hooks=hooks) as client:
        facts = inspect_images(client, [pushed.ref(f"test/multi:t{i}") for i in range(12)])
    assert all(f.exists is False for f in facts.values())
    assert 1 <= in_flight[1] <= 2


def test_a_bug_in_one_resolution_does_not_stop_the_batch(pushed: Pushed, client: RegistryClient) -> None:
    class Broken(RegistryClient):
        def inspect(self, reference: str, credentials: object = None) -> object:  # type: ignore[override]
            if reference.endswith(":boom"):
                raise KeyError("a bug")
            return super().inspect(reference)

    with Broken(client.settings) as broken:
        facts = inspect_images(broken, [pushed.ref("test/single:1"), pushed.ref("test/single:boom")])
    assert facts[pushed.ref("test/single:1")].exists is True
    assert facts[pushed.ref("test/single:boom")].exists is None
    assert facts[pushed.ref("test/single:boom")].error == "unexpected KeyError while asking the registry"
