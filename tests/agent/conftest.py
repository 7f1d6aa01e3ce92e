"""Agent test beds: recorded CRI answers, a real containerd fed by a real registry, and the
embedded cluster with edgefleet's CRDs installed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import json_format

from reconciler.agent.cri import api_pb2
from reconciler.kube.crds import install_crds, read_crds
from reconciler.kube.session import Session
from reconciler.sim.clock import ManualClock
from reconciler.sim.cluster import EmbeddedCluster
from tests.realparts import Unavailable
from tests.realparts.containerd import Containerd, run_containerd
from tests.realparts.ocilayout import BuiltImage, ImageSpec, host_architecture, write_layout
from tests.realparts.registry import RunningRegistry, serve_registry

FIXTURES = Path(__file__).parent / "fixtures"


@dataclass(frozen=True)
class Recorded:
    """CRI answers read back into the generated message classes."""

    version: Any
    list_images: Any
    image_fs_info: Any


def recorded(name: str) -> Recorded:
    """tests/agent/fixtures/<name>.json (protobuf JSON of Version, ListImages, ImageFsInfo)."""
    data = json.loads((FIXTURES / f"{name}.json").read_text())
    return Recorded(json_format.ParseDict(data["version"], api_pb2.VersionResponse()),
                    json_format.ParseDict(data["listImages"], api_pb2.ListImagesResponse()),
                    json_format.ParseDict(data["imageFsInfo"], api_pb2.ImageFsInfoResponse()))


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[RunningRegistry]:
    """Debian's docker-registry on 127.0.0.1 (plain HTTP), skipped with the reason if it cannot run."""
    try:
        with serve_registry(tmp_path / "registry") as served:
            yield served
    except Unavailable as reason:
        pytest.skip(str(reason))


@pytest.fixture
def containerd(registry: RunningRegistry) -> Iterator[Containerd]:
    """A private containerd that pulls from `registry` over plain HTTP."""
    try:
        with run_containerd([registry.host]) as runtime:
            yield runtime
    except Unavailable as reason:
        pytest.skip(str(reason))


@pytest.fixture
def small_image(tmp_path: Path) -> BuiltImage:
    """A one-layer image for this machine's architecture, made here (no internet)."""
    return write_layout(tmp_path / "layout", "1",
                        [ImageSpec(host_architecture(), payload=b"made by the agent test\n")])


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[tuple[EmbeddedCluster, Session]]:
    """The embedded cluster (manual clock) with deploy/crds installed, and a session to it."""
    with EmbeddedCluster(nodes=3, clock=ManualClock(), seed=5) as embedded:
        session = Session.from_kubeconfig(embedded.write_kubeconfig(tmp_path / "kubeconfig"))
        install_crds(session, read_crds())
        try:
            yield embedded, session
        finally:
            session.close()
