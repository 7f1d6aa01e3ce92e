"""List+watch loops against the embedded API server: resume, relist on 410, what wakes the queue."""

from __future__ import annotations

import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from reconciler.controller.watching import ResourceWatch, WatchTarget, node_fingerprint, object_fingerprint
from reconciler.kube.session import Session
from reconciler.sim.apiserver.faults import Faults
from reconciler.sim.apiserver.server import ApiServer
from reconciler.sim.apiserver.store import Store
from reconciler.sim.served import new_store
from tests.controller.conftest import edge_node


def wait_until(predicate: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


class Recorder:
    def __init__(self) -> None:
        self.reasons: list[str] = []
        self._lock = threading.Lock()

    def __call__(self, reason: str) -> None:
        with self._lock:
            self.reasons.append(reason)


@pytest.fixture
def node_watch(session: Session) -> Iterator[tuple[ResourceWatch, Recorder]]:
    recorder = Recorder()
    watch = ResourceWatch(WatchTarget("nodes", session.core.list_node, node_fingerprint), recorder,
                          watch_seconds=30)
    thread = threading.Thread(target=watch.run, daemon=True)
    thread.start()
    assert watch.synced.wait(5)
    yield watch, recorder
    watch.stop()
    thread.join(5)
    assert not thread.is_alive()


def test_a_dropped_watch_resumes_without_missing_an_event(
        node_watch: tuple[ResourceWatch, Recorder], store: Store, faults: Faults) -> None:
    watch, recorder = node_watch
    faults.drop_watch_after_events = 2  # every stream is cut after two events
    faults.drop_watch_after_seconds = 0.3  # and idle streams soon too
    for index in range(12):
        store.create("", "nodes", edge_node(f"edge-{index:02d}"))
    store.delete("", "nodes", "edge-03")
    assert wait_until(lambda: len(watch.fingerprints) == 11
                      and "nodes/edge-03 deleted" in recorder.reasons, 10)
    assert sorted(watch.fingerprints) == [f"edge-{i:02d}" for i in range(12) if i != 3]
    assert faults.injected.get("drop", 0) >= 3
    assert watch.resumes >= 3
    assert watch.relists == 1  # resumed from the resourceVersion each time, never relisted
    added = [r for r in recorder.reasons if r.endswith(" added")]
    assert len(added) == 12  # every creation seen exactly once


def test_heartbeats_do_not_wake_the_queue_but_readiness_and_labels_do(
        node_watch: tuple[ResourceWatch, Recorder], store: Store) -> None:
    watch, recorder = node_watch
    store.create("", "nodes", edge_node("edge-a"))
    assert wait_until(lambda: "nodes/edge-a added" in recorder.reasons, 5)

    def heartbeat(node: dict[str, object]) -> None:
        node["status"]["conditions"][0]["lastHeartbeatTime"] = "2026-01-01T00:05:00Z"  # type: ignore[index]

    def offline(node: dict[str, object]) -> None:
        node["status"]["conditions"][0]["status"] = "False"  # type: ignore[index]

    def relabel(node: dict[str, object]) -> None:
        node["metadata"]["labels"]["apps.kubeedge.io/belonging-to"] = "berlin"  # type: ignore[index]

    before = watch.events
    store.mutate("", "nodes", "edge-a", heartbeat, subresource="*")
    assert wait_until(lambda: watch.events > before, 5)
    assert recorder.reasons.count("nodes/edge-a changed") == 0
    store.mutate("", "nodes", "edge-a", offline, subresource="*")
    assert wait_until(lambda: recorder.reasons.count("nodes/edge-a changed") == 1, 5)
    store.mutate("", "nodes", "edge-a", relabel, subresource="*")
    assert wait_until(lambda: recorder.reasons.count("nodes/edge-a changed") == 2, 5)


@pytest.fixture
def small_history() -> Iterator[tuple[Store, Session]]:
    """A store whose watch history is so short that a paused watcher's resourceVersion expires."""
    store = new_store("1.21", history=3)
    with ApiServer(store) as server, tempfile.TemporaryDirectory() as tmp:
        session = Session.from_kubeconfig(server.write_kubeconfig(Path(tmp) / "kubeconfig"))
        yield store, session
        session.close()


def test_an_expired_resource_version_relists_and_reports_what_changed(
        small_history: tuple[Store, Session]) -> None:
    store, session = small_history
    recorder = Recorder()
    watch = ResourceWatch(WatchTarget("nodes", session.core.list_node, node_fingerprint), recorder)
    store.create("", "nodes", edge_node("edge-old"))
    watch._relist()  # list once, as the loop does first, then fall far behind
    for index in range(10):
        store.create("", "nodes", edge_node(f"edge-new-{index}"))
    store.delete("", "nodes", "edge-old")
    thread = threading.Thread(target=watch.run, daemon=True)
    thread.start()
    try:
        assert wait_until(lambda: watch.relists == 2, 10)
        assert sorted(watch.fingerprints) == [f"edge-new-{i}" for i in range(10)]
        assert "nodes: 11 changed on relist" in recorder.reasons
    finally:
        watch.stop()
        thread.join(5)


def job(phase: str = "InProgress", time_: str = "2026-01-01T00:00:00Z",
        image_status: str = "") -> dict[str, object]:
    node = {"nodeName": "n", "phase": "InProgress", "actionFlow": [{"action": "Pull", "time": time_}],
            "imageStatus": [{"image": "a", "status": image_status}]}
    return {"metadata": {"name": "ef-a-1", "labels": {"app.kubernetes.io/managed-by": "edgefleet"}},
            "spec": {"imagePrePullTemplate": {"images": ["a"], "nodeNames": ["n"]}},
            "status": {"phase": phase, "nodeStatus": [node]}}


@pytest.mark.parametrize(
    ("changed", "wakes"),
    [pytest.param(job(time_="2026-01-01T00:05:00Z"), False, id="a-report-time-alone"),
     pytest.param(job(image_status="True"), True, id="an-image-pulled"),
     pytest.param(job(phase="Completed"), True, id="the-job-finished")],
)
def test_job_fingerprints_ignore_times(changed: dict[str, object], wakes: bool) -> None:
    assert (object_fingerprint(changed) != object_fingerprint(job())) is wakes


def test_streams_cut_right_after_their_200_are_retried_with_client_gos_backoff(
        session: Session, faults: Faults) -> None:
    faults.drop_watch_after_seconds = 0.0  # a proxy that hangs up on every stream at once
    watch: ResourceWatch

    def pause(seconds: float) -> None:  # counted, not slept
        if len(watch.delays) >= 7:
            watch.stop()

    watch = ResourceWatch(WatchTarget("nodes", session.core.list_node, node_fingerprint), Recorder(),
                          pause=pause)
    thread = threading.Thread(target=watch.run, daemon=True)
    thread.start()
    thread.join(10)
    assert not thread.is_alive()
    assert watch.delays == [0.8, 1.6, 3.2, 6.4, 12.8, 25.6, 30.0]
    assert watch.relists == 1 and watch.resumes == 7  # resumed from the resourceVersion each time


def test_a_stream_that_delivered_events_resumes_at_once(
        node_watch: tuple[ResourceWatch, Recorder], store: Store, faults: Faults) -> None:
    watch, _ = node_watch
    faults.drop_watch_after_events = 1  # every stream is cut after one event
    for index in range(5):
        store.create("", "nodes", edge_node(f"edge-{index:02d}"))
    assert wait_until(lambda: len(watch.fingerprints) == 5, 5)
    assert watch.delays == []  # each cut stream had delivered: no backoff


def test_a_stop_that_arrives_while_a_stream_opens_ends_the_loop_at_once(session: Session) -> None:
    watch: ResourceWatch

    def list_node(**params: object) -> object:
        if params.get("watch"):
            watch.stop()  # the daemon shuts down between the request and its 200
        return session.core.list_node(**params)

    watch = ResourceWatch(WatchTarget("nodes", list_node, node_fingerprint), Recorder(), watch_seconds=30)
    thread = threading.Thread(target=watch.run, daemon=True)
    thread.start()
    thread.join(5)  # an idle stream would otherwise block for its 30 s
    assert not thread.is_alive()
