"""Leader election when the API answers slowly: the two sides date what they saw so that the
old leader has stepped down before a candidate may take its Lease (client-go's rules).

Real Leases on the embedded API server; the replicas' monotonic clocks are one test clock, and
a slow answer is the clock moving (and a peer acting) while a request is under way."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kubernetes import client

from reconciler.controller.leader import LeaderTiming, LeaseElector
from reconciler.kube.session import Session

TIMING = LeaderTiming()  # client-go's 15 s lease, 10 s renew deadline, 2 s retry


class SlowCoordination(client.CoordinationV1Api):
    """The real API, where the next read (before it is served) or the next renewal (after it
    was applied, before its answer arrives) runs `meanwhile` first: the request is slow."""

    def __init__(self, api_client: client.ApiClient) -> None:
        super().__init__(api_client)
        self.slow_read: Callable[[], None] | None = None
        self.slow_answer_to_renewal: Callable[[], None] | None = None

    def read_namespaced_lease(self, *args: Any, **kwargs: Any) -> Any:
        meanwhile, self.slow_read = self.slow_read, None
        if meanwhile is not None:
            meanwhile()
        return super().read_namespaced_lease(*args, **kwargs)

    def replace_namespaced_lease(self, *args: Any, **kwargs: Any) -> Any:
        answer = super().replace_namespaced_lease(*args, **kwargs)
        meanwhile, self.slow_answer_to_renewal = self.slow_answer_to_renewal, None
        if meanwhile is not None:
            meanwhile()
        return answer


def replica(session: Session, identity: str, now: list[float]) -> tuple[LeaseElector, SlowCoordination]:
    api = SlowCoordination(session.api_client)
    elector = LeaseElector(api, name="edgefleet", namespace="default", identity=identity,
                           timing=TIMING, clock=lambda: now[0])
    return elector, api


def test_a_candidate_dates_a_renewal_from_when_its_slow_read_returned(session: Session) -> None:
    now = [0.0]
    a, _ = replica(session, "a", now)
    b, b_api = replica(session, "b", now)
    assert a.try_once()  # a creates the Lease at 0

    def a_renews_while_bs_read_is_under_way() -> None:
        now[0] = 12.0
        assert a.try_once()

    now[0] = 6.0  # b sends its read at 6; it is served at 12, after a's renewal
    b_api.slow_read = a_renews_while_bs_read_is_under_way
    assert not b.try_once()
    # a is cut off from the API from now on; at 21 it still leads (renewed 9 s ago)...
    now[0] = 21.0
    assert a.is_leader()
    # ...so b must not take the Lease yet: it saw the renewal at 12, not at 6.
    assert not b.try_once()
    assert not b.is_leader()
    now[0] = 27.0  # 15 s after b saw the renewal: a stepped down long ago, b may take it
    assert not a.is_leader()
    assert b.try_once()


def test_a_leader_dates_its_renewal_from_when_it_was_sent(session: Session) -> None:
    now = [0.0]
    a, a_api = replica(session, "a", now)
    b, _ = replica(session, "b", now)
    assert a.try_once()
    now[0] = 5.0
    assert not b.try_once()

    def b_sees_the_renewal_before_a_gets_its_answer() -> None:
        now[0] = 13.0
        assert not b.try_once()
        now[0] = 20.0  # the answer reaches a 8 s after it sent the renewal

    now[0] = 12.0
    a_api.slow_answer_to_renewal = b_sees_the_renewal_before_a_gets_its_answer
    assert a.try_once()
    now[0] = 28.0  # 15 s after b saw the renewal: b takes the Lease
    assert b.try_once()
    assert not a.is_leader()  # a renewed at 12 (sent), so its 10 s deadline passed at 22
