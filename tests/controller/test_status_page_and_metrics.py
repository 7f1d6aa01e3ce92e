"""/status renders what a person needs, escaped; /metrics is valid Prometheus text."""

from __future__ import annotations

from datetime import UTC, datetime
from html.parser import HTMLParser

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from reconciler.controller import status_page
from reconciler.controller.api_metrics import verb_of
from reconciler.controller.metrics import ControllerMetrics
from reconciler.controller.view import (
    ControllerState,
    CycleView,
    GroupView,
    JobView,
    NodeNote,
    redact_url,
)

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
EVIL = '<script>alert("x")</script>'


def view(**changes: object) -> CycleView:
    base = CycleView(
        outcome="progressing", message="wrote: 2 jobs created", finished_at=T0, duration=0.42,
        revision_in_force="a" * 40, revision_seen="a" * 40,
        groups=(GroupView("shanghai-line", desired=10, present=4, missing=2, in_flight=4, deferred_nodes=1),
                GroupView("berlin", desired=6, present=6, missing=0)),
        jobs_by_phase=(("running", 2), ("succeeded", 1)),
        jobs_in_flight=(JobView("ef-shanghai-line-1a2b", "shanghai-line", "running", 2, 2),),
        deferred=(NodeNote("edge-sh-007", "not Ready"),),
        failing=(NodeNote("edge-sh-003", "disk full", image="docker.io/library/nginx:1.25", attempts=5),),
    )
    from dataclasses import replace

    return replace(base, **changes)  # type: ignore[arg-type]


def state(last: CycleView | None) -> ControllerState:
    s = ControllerState(repo="https://user:tok3n@git.example.com/fleet.git", branch="main", path="",
                        identity="host_1", started_at=T0)
    if last is not None:
        s.record_cycle(last)
    return s


class Cells(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[str, str] = {}
        self._group: str | None = None
        self.scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script":
            self.scripts += 1
        found = dict(attrs)
        if tag == "tr" and found.get("data-group"):
            self._group = found["data-group"]
            self.rows[self._group or ""] = found.get("data-state") or ""


def test_groups_and_their_convergence_are_on_the_page() -> None:
    html = status_page.render(state(view()).snapshot())
    cells = Cells()
    cells.feed(html)
    assert cells.rows == {"shanghai-line": "converging", "berlin": "converged"}
    assert "4 / 10" in html and "40.0%" in html and "6 / 6" in html
    assert "ef-shanghai-line-1a2b" in html and "edge-sh-007" in html and "disk full" in html
    assert "aaaaaaaaaaaa" in html  # the revision in force, shortened


def test_a_group_with_failed_pairs_is_not_shown_as_plainly_converged() -> None:
    html = status_page.render(state(view(groups=(
        GroupView("toll", desired=360, present=336, missing=24, failed=6),))).snapshot())
    cells = Cells()
    cells.feed(html)
    assert cells.rows == {"toll": "converged"}  # the machine-readable phase stays one word
    assert '<td class="warn">converged, 6 failed</td>' in html


def test_everything_from_outside_is_escaped() -> None:
    evil = view(message=EVIL, groups=(GroupView(EVIL, 1, 0, 1),),
                deferred=(NodeNote(EVIL, EVIL),), revision_error=EVIL, revision_seen="b" * 40)
    html = status_page.render(state(evil).snapshot())
    parser = Cells()
    parser.feed(html)
    assert parser.scripts == 0
    assert "&lt;script&gt;" in html


def test_a_failing_revision_is_shown_with_the_one_in_force() -> None:
    failing = view(revision_seen="b" * 40, revision_error="fleet.yaml:3:1: bad")
    html = status_page.render(state(failing).snapshot())
    assert 'id="revision-error"' in html and "bbbbbbbbbbbb" in html and "fleet.yaml:3:1: bad" in html


def test_credentials_in_the_repository_url_never_reach_the_page() -> None:
    html = status_page.render(state(None).snapshot())
    assert "tok3n" not in html and "git.example.com/fleet.git" in html
    assert "No reconcile cycle has finished yet" in html


@pytest.mark.parametrize(
    ("url", "shown"),
    [pytest.param("https://u:p@h.example/x.git", "https://h.example/x.git", id="user-and-password"),
     pytest.param("https://tok@h.example:8443/x", "https://h.example:8443/x", id="token-and-port"),
     pytest.param("git://h.example/x.git", "git://h.example/x.git", id="nothing-to-hide")],
)
def test_redact_url(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_metrics_parse_and_carry_the_cycle() -> None:
    registry = CollectorRegistry()
    metrics = ControllerMetrics(registry)
    metrics.record_cycle(view())
    metrics.api_requests.labels("create", "201").inc()
    families = {f.name: f for f in text_string_to_metric_families(generate_latest(registry).decode())}
    pairs = {(s.labels["group"], s.labels["state"]): s.value
             for s in families["edgefleet_group_pairs"].samples}
    assert pairs[("shanghai-line", "desired")] == 10 and pairs[("shanghai-line", "missing")] == 2
    assert pairs[("berlin", "present")] == 6
    jobs = {s.labels["phase"]: s.value for s in families["edgefleet_jobs"].samples}
    assert jobs == {"running": 2, "succeeded": 1}
    last = families["edgefleet_last_successful_reconcile_timestamp_seconds"]
    assert last.samples[0].value == T0.timestamp()
    info = families["edgefleet_git_revision_info"].samples[0].labels
    assert info["in_force"] == "a" * 40
    assert any(s.labels.get("verb") == "create" and s.labels.get("code") == "201"
               for s in families["edgefleet_api_requests"].samples)
    assert "edgefleet_reconcile_duration_seconds" in families


def test_a_group_removed_by_a_commit_leaves_the_metrics() -> None:
    registry = CollectorRegistry()
    metrics = ControllerMetrics(registry)
    metrics.record_cycle(view())
    metrics.record_cycle(view(groups=(GroupView("berlin", 6, 6, 0),)))
    text = generate_latest(registry).decode()
    assert 'group="shanghai-line"' not in text and 'group="berlin"' in text


def test_a_failed_cycle_keeps_the_last_numbers_and_flags_the_revision() -> None:
    registry = CollectorRegistry()
    metrics = ControllerMetrics(registry)
    metrics.record_cycle(view())
    metrics.record_cycle(CycleView(outcome="stalled", message="bad", finished_at=T0, duration=0.1,
                                   revision_error="fleet.yaml:1:1: bad"))
    assert registry.get_sample_value("edgefleet_group_pairs", {"group": "berlin", "state": "present"}) == 6
    assert registry.get_sample_value("edgefleet_revision_load_failing") == 1


@pytest.mark.parametrize(
    ("method", "url", "verb"),
    [pytest.param("GET", "http://h/api/v1/nodes?limit=500", "get", id="list"),
     pytest.param("GET", "http://h/api/v1/nodes?watch=true&resourceVersion=5", "watch", id="watch"),
     pytest.param("POST", "http://h/apis/x/v1/things", "create", id="create"),
     pytest.param("PUT", "http://h/apis/coordination.k8s.io/v1/namespaces/d/leases/l", "update", id="update"),
     pytest.param("delete", "http://h/apis/x/v1/things/a", "delete", id="delete-lowercase")],
)
def test_verb_of(method: str, url: str, verb: str) -> None:
    assert verb_of(method, url) == verb


def test_metrics_carry_the_edge_agent_counts_of_the_last_plan() -> None:
    registry = CollectorRegistry()
    metrics = ControllerMetrics(registry)
    metrics.record_cycle(view(agent=(("nodesWithReport", 38), ("nodesStale", 2), ("pairsEvicted", 1))))
    families = {f.name: f for f in text_string_to_metric_families(generate_latest(registry).decode())}
    agent = {s.labels["what"]: s.value for s in families["edgefleet_agent_inventory"].samples}
    assert agent == {"nodesWithReport": 38, "nodesStale": 2, "pairsEvicted": 1}
    metrics.record_cycle(view())  # a fleet without agents: the series go
    families = {f.name: f for f in text_string_to_metric_families(generate_latest(registry).decode())}
    assert families["edgefleet_agent_inventory"].samples == []
