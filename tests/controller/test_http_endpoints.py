"""The HTTP endpoints over real HTTP: health, readiness, metrics, status and the git webhook."""

from __future__ import annotations

import hashlib
import hmac
import logging
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from reconciler.controller.http import ControllerHttp, WebhookSettings, parse_listen
from reconciler.controller.metrics import ControllerMetrics
from reconciler.controller.view import ControllerState, CycleView, GroupView

SECRET = b"hook-secret"
BODY = b'{"ref":"refs/heads/main","after":"0123"}'
T0 = datetime(2026, 3, 1, tzinfo=UTC)


@dataclass
class Served:
    url: str
    state: ControllerState
    registry: CollectorRegistry
    pushes: list[str] = field(default_factory=list)


def serve(secret: bytes | None) -> Iterator[Served]:
    state = ControllerState(repo="git://example/fleet.git", branch="main", path="", identity="t",
                            started_at=T0)
    registry = CollectorRegistry()
    pushes: list[str] = []
    http = ControllerHttp("127.0.0.1:0", state, ControllerMetrics(registry),
                          WebhookSettings(secret, pushes.append))
    http.start()
    try:
        yield Served(http.url, state, registry, pushes)
    finally:
        http.stop()


@pytest.fixture
def served() -> Iterator[Served]:
    yield from serve(SECRET)


def request(url: str, *, body: bytes | None = None,
            headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    method = "POST" if body is not None else "GET"
    req = urllib.request.Request(url, data=body, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(req, timeout=5) as response:
            return int(response.status), response.read()
    except urllib.error.HTTPError as error:
        return int(error.code), error.read()


def github(secret: bytes, body: bytes = BODY) -> dict[str, str]:
    return {"X-Hub-Signature-256": "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest(),
            "X-GitHub-Event": "push", "Content-Type": "application/json"}


@pytest.mark.parametrize(
    "headers",
    [pytest.param({}, id="unsigned"),
     pytest.param(github(b"not-the-secret"), id="github-wrong-secret"),
     pytest.param({"X-Gitlab-Token": "not-the-secret"}, id="gitlab-wrong-token"),
     pytest.param({"X-Gitea-Signature": "00" * 32}, id="gitea-wrong-signature")],
)
def test_unsigned_or_wrongly_signed_pushes_get_401_and_change_nothing(served: Served,
                                                                      headers: dict[str, str]) -> None:
    code, answer = request(f"{served.url}/hooks/git", body=BODY, headers=headers)
    assert code == 401
    assert SECRET not in answer
    assert served.pushes == []
    assert served.registry.get_sample_value("edgefleet_webhook_requests_total",
                                            {"result": "unauthorized"}) == 1


@pytest.mark.parametrize(
    ("headers", "forge"),
    [pytest.param(github(SECRET), "github", id="github"),
     pytest.param({"X-Gitlab-Token": SECRET.decode(), "X-Gitlab-Event": "Push Hook"}, "gitlab", id="gitlab"),
     pytest.param({"X-Gitea-Signature": hmac.new(SECRET, BODY, hashlib.sha256).hexdigest(),
                   "X-Gitea-Event": "push"}, "gitea", id="gitea"),
     pytest.param({"X-Gitlab-Token": SECRET.decode(), "X-Gitlab-Event": "Tag Push Hook"}, "gitlab",
                  id="gitlab-tag-push")],
)
def test_a_signed_push_is_accepted_and_triggers_a_fetch(served: Served, headers: dict[str, str],
                                                        forge: str) -> None:
    code, _ = request(f"{served.url}/hooks/git", body=BODY, headers=headers)
    assert code == 202
    assert served.pushes == [forge]


def test_a_ping_is_answered_without_fetching(served: Served) -> None:
    headers = {**github(SECRET), "X-GitHub-Event": "ping"}
    assert request(f"{served.url}/hooks/git", body=BODY, headers=headers)[0] == 200
    assert served.pushes == []


def gitea(event: str | None) -> dict[str, str]:
    signed = {"X-Gitea-Signature": hmac.new(SECRET, BODY, hashlib.sha256).hexdigest()}
    return signed if event is None else {**signed, "X-Gitea-Event": event}


def gitlab(event: str | None) -> dict[str, str]:
    signed = {"X-Gitlab-Token": SECRET.decode()}
    return signed if event is None else {**signed, "X-Gitlab-Event": event}


def without_event(headers: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k != "X-GitHub-Event"}


@pytest.mark.parametrize(
    ("headers", "forge", "event"),
    [pytest.param(without_event(github(SECRET)), "github", "none", id="github-no-event-header"),
     pytest.param({**github(SECRET), "X-GitHub-Event": "issues"}, "github", "issues", id="github-issues"),
     pytest.param({**github(SECRET), "X-GitHub-Event": "pull_request"}, "github", "pull_request",
                  id="github-pull-request"),
     pytest.param(gitea(None), "gitea", "none", id="gitea-no-event-header"),
     pytest.param(gitea("issues"), "gitea", "issues", id="gitea-issues"),
     pytest.param(gitea("ping"), "gitea", "ping", id="gitea-has-no-ping"),
     pytest.param(gitlab(None), "gitlab", "none", id="gitlab-no-event-header"),
     pytest.param(gitlab("Merge Request Hook"), "gitlab", "Merge Request Hook", id="gitlab-merge-request"),
     pytest.param(gitlab("push"), "gitlab", "push", id="gitlab-github-word")],
)
def test_a_signed_request_that_is_no_push_is_ignored_and_counted(
        served: Served, headers: dict[str, str], forge: str, event: str,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="edgefleet.http")
    code, answer = request(f"{served.url}/hooks/git", body=BODY, headers=headers)
    assert (code, answer) == (200, f"ignored: event {event!r} is not a push\n".encode())
    assert served.pushes == []
    assert served.registry.get_sample_value("edgefleet_webhook_ignored_events_total",
                                            {"forge": forge, "event": event}) == 1
    assert served.registry.get_sample_value("edgefleet_webhook_requests_total", {"result": "ignored"}) == 1
    accepted = served.registry.get_sample_value("edgefleet_webhook_requests_total", {"result": "accepted"})
    assert accepted is None
    said = [r.getMessage() for r in caplog.records if r.name == "edgefleet.http"]
    assert not any("fetching now" in line for line in said)
    assert f"webhook: ignored signed {forge} event {event!r} (only pushes fetch)" in said


def test_a_huge_payload_is_refused_before_reading(served: Served) -> None:
    huge = b"x" * ((1 << 20) + 1)
    assert request(f"{served.url}/hooks/git", body=huge, headers=github(SECRET, huge))[0] == 413
    assert served.pushes == []


def test_without_a_secret_the_webhook_is_disabled() -> None:
    for served in serve(None):
        code, answer = request(f"{served.url}/hooks/git", body=BODY, headers=github(SECRET))
        assert code == 404 and b"--webhook-secret-file" in answer
        assert served.pushes == []


def test_health_readiness_metrics_and_status(served: Served) -> None:
    assert request(f"{served.url}/healthz") == (200, b"ok\n")
    assert request(f"{served.url}/readyz")[0] == 503  # no cycle has succeeded yet
    served.state.record_cycle(CycleView(outcome="transient", message="API down", finished_at=T0,
                                        duration=0.1))
    assert request(f"{served.url}/readyz")[0] == 503  # a failed cycle does not make it ready
    served.state.record_cycle(CycleView(outcome="converged", message="ok", finished_at=T0, duration=0.1,
                                        groups=(GroupView("berlin", 4, 4, 0),)))
    assert request(f"{served.url}/readyz")[0] == 200
    code, metrics = request(f"{served.url}/metrics")
    assert code == 200
    names = {family.name for family in text_string_to_metric_families(metrics.decode())}
    assert {"edgefleet_reconcile_duration_seconds", "edgefleet_api_requests",
            "edgefleet_webhook_requests"} <= names
    code, page = request(f"{served.url}/status")
    assert code == 200 and b'data-group="berlin"' in page
    assert request(f"{served.url}/nothing")[0] == 404


@pytest.mark.parametrize(
    ("listen", "expected"),
    [pytest.param("127.0.0.1:8080", ("127.0.0.1", 8080), id="ipv4"),
     pytest.param("[::1]:0", ("::1", 0), id="ipv6-any-port"),
     pytest.param("localhost:9", ("localhost", 9), id="name")],
)
def test_parse_listen(listen: str, expected: tuple[str, int]) -> None:
    assert parse_listen(listen) == expected


@pytest.mark.parametrize("listen", [pytest.param("8080", id="no-host"), pytest.param("h:x", id="bad-port"),
                                    pytest.param("h:70000", id="port-too-big")])
def test_parse_listen_refuses(listen: str) -> None:
    with pytest.raises(ValueError, match="HOST:PORT"):
        parse_listen(listen)
