"""The CRI adapter against a real containerd, fed by a real registry with an image made here."""

from __future__ import annotations

import os
import socket
from concurrent import futures
from datetime import UTC, datetime
from pathlib import Path

import grpc
import pytest

from reconciler.agent.report import build_report
from reconciler.agent.runtime import CriError, CriRuntime, choose_socket
from tests.realparts.containerd import Containerd
from tests.realparts.ocilayout import BuiltImage
from tests.realparts.registry import RunningRegistry

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


def test_agent_lists_a_pulled_image_with_digest_and_size_and_notices_its_removal(
        containerd: Containerd, registry: RunningRegistry, small_image: BuiltImage) -> None:
    digest = registry.push(small_image, "test/agent-img:1")
    assert digest == small_image.digest
    ref = f"{registry.host}/test/agent-img:1"
    with CriRuntime(containerd.socket) as runtime:
        empty = build_report(*_parts(runtime), NOW)
        assert empty.images == ()

        containerd.pull(ref)
        held = build_report(*_parts(runtime), NOW)
        listed = {i["image"]: i for i in held.as_status()["images"]}
        assert listed == {
            ref: {"image": ref, "digest": digest, "sizeBytes": small_image.content_bytes},
            f"{registry.host}/test/agent-img@{digest}":
                {"image": f"{registry.host}/test/agent-img@{digest}", "digest": digest,
                 "sizeBytes": small_image.content_bytes},
        }
        status = held.as_status()
        assert status["runtime"]["name"] == "containerd" and status["runtime"]["version"]
        assert status["imageFsCapacityBytes"] and status["imageFsCapacityBytes"] > 0
        assert status["imageFsUsedBytes"] is not None
        assert held.content_hash != empty.content_hash

        containerd.remove(ref)
        gone = build_report(*_parts(runtime), NOW)
        assert gone.images == ()
        assert gone.content_hash == empty.content_hash


def test_an_image_pulled_with_ctr_is_listed_by_tag_without_a_digest(
        containerd: Containerd, registry: RunningRegistry, small_image: BuiltImage) -> None:
    registry.push(small_image, "test/by-ctr:2")
    ref = f"{registry.host}/test/by-ctr:2"
    containerd.ctr("images", "pull", "--plain-http", ref)
    with CriRuntime(containerd.socket) as runtime:
        listed = build_report(*_parts(runtime), NOW).as_status()["images"]
    # ctr records no repo digest for the CRI: the agent lists the tag and says no digest.
    assert {"image": ref, "sizeBytes": small_image.content_bytes} in listed


def _parts(runtime: CriRuntime):  # type: ignore[no-untyped-def]
    taken = runtime.snapshot()
    return taken.images, taken.image_fs, taken.runtime


def test_a_missing_socket_is_one_clear_line(tmp_path: Path) -> None:
    with pytest.raises(CriError) as caught, CriRuntime(str(tmp_path / "nope.sock")) as runtime:
        runtime.snapshot()
    assert str(caught.value) == (f"CRI socket {tmp_path / 'nope.sock'} does not exist: is the container "
                                 "runtime running, and is its socket mounted (--cri-socket)?")


def test_a_socket_that_is_not_a_cri_server_is_one_clear_line(tmp_path: Path) -> None:
    path = str(tmp_path / "plain.sock")
    server = socket.socket(socket.AF_UNIX)
    server.bind(path)
    server.listen()
    try:
        with pytest.raises(CriError) as caught, CriRuntime(path, timeout=2.0) as runtime:
            runtime.snapshot()
    finally:
        server.close()
    message = str(caught.value)
    assert message.startswith(f"CRI Version on {path} ") and "\n" not in message, message
    assert "did not answer within 2s" in message or "unavailable" in message, message


def test_a_grpc_server_without_the_cri_is_named_as_such(tmp_path: Path) -> None:
    path = str(tmp_path / "grpc.sock")
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=1))  # serves no service at all
    server.add_insecure_port(f"unix://{path}")
    server.start()
    try:
        with pytest.raises(CriError) as caught, CriRuntime(path, timeout=5.0) as runtime:
            runtime.snapshot()
    finally:
        server.stop(None)
    assert str(caught.value) == f"CRI Version on {path} is not a CRI runtime.v1 server (UNIMPLEMENTED)"


def test_a_socket_speaking_http1_is_not_a_cri_server(containerd: Containerd) -> None:
    # containerd's debug socket serves HTTP/1 (pprof), not gRPC.
    debug = str(containerd.directory / "debug.sock")
    if not os.path.exists(debug):
        pytest.skip("containerd has no debug socket here")
    with pytest.raises(CriError) as caught, CriRuntime(debug, timeout=5.0) as runtime:
        runtime.snapshot()
    assert str(caught.value) == f"CRI Version on {debug} is not a CRI server (it does not speak gRPC)"


def test_socket_guess_prefers_containerd_then_cri_o(tmp_path: Path) -> None:
    containerd_sock, crio_sock = str(tmp_path / "containerd.sock"), str(tmp_path / "crio.sock")
    assert choose_socket(None, (containerd_sock, crio_sock)) == containerd_sock  # neither: name the usual
    Path(crio_sock).touch()
    assert choose_socket(None, (containerd_sock, crio_sock)) == crio_sock
    Path(containerd_sock).touch()
    assert choose_socket(None, (containerd_sock, crio_sock)) == containerd_sock
    assert choose_socket("/x.sock", (containerd_sock, crio_sock)) == "/x.sock"

