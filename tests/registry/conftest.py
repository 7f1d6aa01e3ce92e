"""A real docker-registry with images the tests built and pushed, and request counting."""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from reconciler.registry import DockerConfig, RegistryClient, RegistrySettings
from tests.realparts.ocilayout import BuiltImage, ImageSpec, push_layout, write_layout
from tests.realparts.registry import (
    RunningRegistry,
    TlsFiles,
    make_tls,
    registry_available,
    registry_or_skip,
    write_htpasswd,
)


@dataclass
class Pushed:
    """The plain-HTTP registry and what was pushed to it."""

    registry: RunningRegistry
    layout: Path
    multi: BuiltImage  # test/multi:1, an OCI index: linux/amd64 and linux/arm64/v8
    single: BuiltImage  # test/single:1, one linux/amd64 manifest
    docker: str  # test/docker:1, single image pushed as Docker schema 2 (its digest)

    def ref(self, path: str) -> str:
        return f"{self.registry.host}/{path}"


@dataclass
class RequestLog:
    """Every request the adapter sent, as "METHOD path" (an httpx event hook)."""

    lines: list[str] = field(default_factory=list)

    def hook(self, request: httpx.Request) -> None:
        self.lines.append(f"{request.method} {request.url.path}")


@pytest.fixture(scope="session")
def registry_tools() -> None:
    reason = registry_available()
    if reason is not None:
        pytest.skip(reason)


@pytest.fixture(scope="module")
def pushed(registry_tools: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pushed]:
    base = tmp_path_factory.mktemp("registry")
    layout = base / "oci"
    # Random payloads: gzip cannot shrink them, so the layer sizes are clearly distinct.
    multi = write_layout(
        layout,
        "multi",
        [ImageSpec("amd64", payload=os.urandom(3000)), ImageSpec("arm64", "v8", payload=os.urandom(5000))],
    )
    single = write_layout(layout, "single", [ImageSpec("amd64", payload=os.urandom(7000))])
    write_layout(layout, "docker", [ImageSpec("arm", "v7", payload=os.urandom(1000))])
    with registry_or_skip(base / "reg") as registry:
        push_layout(layout, "multi", f"{registry.host}/test/multi:1")
        push_layout(layout, "single", f"{registry.host}/test/single:1")
        push_layout(layout, "docker", f"{registry.host}/test/docker:1", docker_format=True)
        docker_digest = httpx.head(
            f"http://{registry.host}/v2/test/docker/manifests/1",
            headers={"Accept": "application/vnd.docker.distribution.manifest.v2+json"},
        ).headers["Docker-Content-Digest"]
        yield Pushed(registry, layout, multi, single, docker_digest)


class FakeClock:
    """A clock the test moves: TTLs expire when the test says so, not after a sleep."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def requests() -> RequestLog:
    return RequestLog()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def client(pushed: Pushed, requests: RequestLog, clock: FakeClock) -> Iterator[RegistryClient]:
    settings = RegistrySettings(insecure=frozenset({pushed.registry.host}), cache_ttl_seconds=60)
    with RegistryClient(settings, clock=clock, event_hooks={"request": [requests.hook]}) as registry_client:
        yield registry_client


USER, PASSWORD = "ci-bot", "s3cret-Pa55-do-not-print"


def docker_config(registry: str, user: str = USER, password: str = PASSWORD) -> DockerConfig:
    auth = base64.b64encode(f"{user}:{password}".encode()).decode()
    return DockerConfig.from_json(json.dumps({"auths": {f"https://{registry}": {"auth": auth}}}))


@dataclass
class Secured:
    registry: RunningRegistry
    tls: TlsFiles
    digest: str
    size: int


@pytest.fixture(scope="module")
def basic_tls(registry_tools: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Secured]:
    base = tmp_path_factory.mktemp("basic")
    tls = make_tls(base / "tls")
    htpasswd = write_htpasswd(base / "htpasswd", USER, PASSWORD)
    built = write_layout(base / "oci", "1", [ImageSpec("amd64", payload=b"secured")])
    with registry_or_skip(base / "reg", tls=tls, htpasswd=htpasswd) as registry:
        push_layout(base / "oci", "1", f"{registry.host}/team/app:1", creds=f"{USER}:{PASSWORD}")
        yield Secured(registry, tls, built.digest, sum(built.manifests[0].layer_sizes))
