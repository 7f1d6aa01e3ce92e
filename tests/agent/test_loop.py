"""The poll loop on the embedded cluster, with time and waiting injected: a failed runtime read
is logged and retried, a change is written at the next poll, the stored report survives."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import orjson
import pytest

from reconciler.agent.loop import run_forever
from reconciler.agent.runtime import (
    CriError,
    RuntimeSnapshot,
    image_fs_from_response,
    images_from_response,
    runtime_from_response,
)
from reconciler.agent.writer import GROUP, PLURAL, VERSION, InventoryWriter
from reconciler.kube.session import Session
from reconciler.sim.cluster import EmbeddedCluster
from tests.agent.conftest import recorded

T0 = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


def snapshot(drop_first: bool = False) -> RuntimeSnapshot:
    answers = recorded("containerd-1.6.20")
    images = images_from_response(answers.list_images)
    return RuntimeSnapshot(images[1:] if drop_first else images,
                           image_fs_from_response(answers.image_fs_info, lambda mountpoint: 2**40),
                           runtime_from_response(answers.version))


def test_loop_retries_a_failed_poll_and_writes_a_change_at_the_next_one(
        cluster: tuple[EmbeddedCluster, Session], caplog: pytest.LogCaptureFixture) -> None:
    embedded, session = cluster
    node = embedded.edge_names()[0]
    def unanswered() -> RuntimeSnapshot:
        raise CriError("CRI ListImages on s did not answer")

    polls: list[Callable[[], RuntimeSnapshot]] = [snapshot, snapshot, unanswered,
                                                  lambda: snapshot(drop_first=True)]
    clock = {"now": T0}
    patches: list[str] = []

    def poll() -> RuntimeSnapshot:
        return polls.pop(0)()

    def wait(seconds: float) -> bool:
        body = orjson.loads(session.call("get", session.custom.get_cluster_custom_object, group=GROUP,
                                         version=VERSION, plural=PLURAL, name=node))
        patches.append(body["status"]["agent"]["contentHash"])
        clock["now"] += timedelta(seconds=seconds)
        return not polls

    caplog.set_level(logging.INFO, logger="edgefleet.agent")
    run_forever(poll, InventoryWriter(session, node), lambda: clock["now"], wait, 60.0)
    assert clock["now"] == T0 + timedelta(minutes=4)
    first, changed = patches[0], patches[-1]
    assert patches == [first, first, first, changed] and first != changed
    messages = [r.getMessage() for r in caplog.records]
    assert any(m.startswith(f"wrote inventory of {node} (first)") for m in messages)
    assert any(m.startswith(f"wrote inventory of {node} (changed)") for m in messages)
    assert "agent poll failed, retrying in 60s: CRI ListImages on s did not answer" in messages
