"""The one seam to the API server: retries, Retry-After, the QPS bound, errors as one line.

Waits run on a fake clock: the tests count requests and sleeps, they never measure time.
"""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from reconciler.kube.errors import ApiBusy, ApiRejected, ApiUnavailable, Fenced, KubeConfigError
from reconciler.kube.session import Session, WriteFence
from reconciler.kube.throttle import RetryPolicy
from reconciler.sim.apiserver.faults import Faults
from reconciler.sim.apiserver.store import Store
from tests.kube.conftest import FakeTime, add_nodes, open_session


def test_429_is_retried_after_the_servers_retry_after_then_succeeds(
        session: Session, faults: Faults, fake_time: FakeTime, store: Store) -> None:
    add_nodes(store, 2)
    faults.throttle_rate, faults.retry_after = 1.0, 7

    def sleep_then_recover(seconds: float) -> None:
        fake_time.sleep(seconds)
        if len(fake_time.sleeps) == 2:
            faults.reset()  # the server recovers after two throttled answers

    session._sleep = sleep_then_recover
    body = session.call("list nodes", session.core.list_node)
    assert b"edge-001" in body
    assert fake_time.sleeps == [7.0, 7.0]  # the server's Retry-After, not our own backoff
    assert faults.injected["throttle"] == 2
    assert session.requests == 3


def test_persistent_429_becomes_busy_with_the_servers_delay(session: Session, faults: Faults,
                                                            fake_time: FakeTime) -> None:
    faults.throttle_rate, faults.retry_after = 1.0, 3
    with pytest.raises(ApiBusy) as raised:
        session.call("list nodes", session.core.list_node)
    assert raised.value.retry_after == 3.0
    assert fake_time.sleeps == [3.0] * 4  # five attempts, four waits
    assert "list nodes: HTTP 429 TooManyRequests after 5 attempts" in str(raised.value)


def test_500_is_retried_with_exponential_backoff_then_unavailable(session: Session, faults: Faults,
                                                                  fake_time: FakeTime) -> None:
    faults.error_rate = 1.0
    with pytest.raises(ApiUnavailable) as raised:
        session.call("list nodes", session.core.list_node)
    assert fake_time.sleeps == [0.5, 1.0, 2.0, 4.0]
    assert faults.injected["error"] == 5
    assert "\n" not in str(raised.value)


def test_a_client_error_is_not_retried_and_reads_as_one_line(session: Session,
                                                             fake_time: FakeTime) -> None:
    with pytest.raises(ApiRejected) as raised:
        session.call("get nodes/ghost", session.core.read_node, name="ghost")
    assert raised.value.code == 404
    assert raised.value.reason == "NotFound"
    assert str(raised.value).startswith("get nodes/ghost: HTTP 404 NotFound: ")
    assert fake_time.sleeps == []
    assert session.requests == 1


def test_an_unreachable_server_is_unavailable_not_a_traceback(tmp_path: Path, fake_time: FakeTime,
                                                              server: Any) -> None:
    kubeconfig = server.write_kubeconfig(tmp_path / "gone")
    server.stop()
    session = open_session(kubeconfig, fake_time, retry=RetryPolicy(max_attempts=2))
    with pytest.raises(ApiUnavailable, match="list nodes: API server unreachable after 2 attempts"):
        session.call("list nodes", session.core.list_node)
    assert fake_time.sleeps == [0.5]


@pytest.mark.parametrize(("qps", "burst", "requests"), [
    pytest.param(5.0, 5, 30, id="qps5-burst5"),
    pytest.param(2.0, 1, 9, id="qps2-no-burst"),
])
def test_client_side_qps_bounds_requests_per_second(kubeconfig: Path, fake_time: FakeTime,
                                                    qps: float, burst: int, requests: int) -> None:
    session = open_session(kubeconfig, fake_time, qps=qps, burst=burst)
    sent_at: list[float] = []

    def timed_list(**params: Any) -> Any:
        sent_at.append(fake_time.now)  # when the request actually leaves, in simulated seconds
        return session.core.list_node(**params)

    for _ in range(requests):
        session.call("list nodes", timed_list)
    per_second = Counter(math.floor(t + 1e-9) for t in sent_at)
    assert per_second[0] <= burst + qps  # the burst, plus what refills within the first second
    assert all(n <= qps for second, n in per_second.items() if second > 0)
    assert len(sent_at) == requests
    assert fake_time.now == pytest.approx((requests - burst) / qps)


@pytest.mark.parametrize(("content", "context", "message"), [
    pytest.param(None, None, "kubeconfig", id="missing-file"),
    pytest.param("not: [a kubeconfig", None, "kubeconfig", id="malformed"),
    pytest.param("VALID", "nowhere", "nowhere", id="unknown-context"),
])
def test_kubeconfig_problems_are_one_line(tmp_path: Path, server: Any, content: str | None,
                                          context: str | None, message: str) -> None:
    path = tmp_path / "config"
    if content == "VALID":
        server.write_kubeconfig(path)
    elif content is not None:
        path.write_text(content)
    with pytest.raises(KubeConfigError) as raised:
        Session.from_kubeconfig(path, context)
    assert message in str(raised.value)
    assert "\n" not in str(raised.value)


def _node(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name}}


def test_a_fenced_write_is_not_retried_once_its_fence_closed(session: Session, faults: Faults,
                                                             fake_time: FakeTime, store: Store) -> None:
    faults.error_rate, faults.verbs = 1.0, frozenset({"create"})
    allowed = {"now": True}

    def sleep_while_the_lease_is_lost(seconds: float) -> None:
        fake_time.sleep(seconds)
        allowed["now"] = False  # the writer loses the right to write during the backoff...
        faults.reset()  # ...and the server recovers: a retry would land

    session._sleep = sleep_while_the_lease_is_lost
    fence = WriteFence(may_send=lambda: allowed["now"], request_timeout=2.5, budget=2.5)
    with pytest.raises(Fenced, match="create nodes/edge-late: not sent after 1 attempts"):
        session.call("create nodes/edge-late", session.core.create_node, body=_node("edge-late"),
                     fence=fence)
    assert session.requests == 1
    assert store.list("", "nodes")[0] == []


def test_a_fenced_write_gives_up_within_its_budget_and_request_timeout(
        session: Session, faults: Faults, fake_time: FakeTime) -> None:
    faults.error_rate = 1.0
    timeouts: list[object] = []

    def create_node(**params: Any) -> Any:
        timeouts.append(params["_request_timeout"])
        return session.core.create_node(**params)

    fence = WriteFence(may_send=lambda: True, request_timeout=0.7, budget=2.5)
    with pytest.raises(ApiUnavailable, match="after 3 attempts"):
        session.call("create nodes/edge-x", create_node, body=_node("edge-x"), fence=fence)
    # Attempts at 0, 0.5 and 1.5 s; the next would start at 3.5 s, past the 2.5 s budget.
    assert fake_time.sleeps == [0.5, 1.0]
    assert timeouts == [0.7, 0.7, 0.7]
