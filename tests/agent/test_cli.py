"""`edgefleet agent` as a user runs it on a node: real containerd, the embedded cluster."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
from typer.testing import CliRunner

from reconciler.agent.writer import GROUP, PLURAL, VERSION
from reconciler.cli import app
from reconciler.kube.session import Session
from reconciler.sim.cluster import EmbeddedCluster
from tests.realparts.containerd import Containerd
from tests.realparts.ocilayout import BuiltImage
from tests.realparts.registry import RunningRegistry


def agent(*args: str, env: dict[str, str] | None = None) -> Any:
    return CliRunner().invoke(app, ["agent", "--log-format", "text", *args], env=env)


def test_dry_run_prints_the_report_and_once_writes_it_then_finds_it_unchanged(
        containerd: Containerd, registry: RunningRegistry, small_image: BuiltImage,
        cluster: tuple[EmbeddedCluster, Session], tmp_path: Path) -> None:
    embedded, session = cluster
    node = embedded.edge_names()[0]
    digest = registry.push(small_image, "test/cli:1")
    containerd.pull(f"{registry.host}/test/cli:1")

    dry = agent("--dry-run", "--cri-socket", containerd.socket, env={"NODE_NAME": node})
    assert dry.exit_code == 0, dry.output
    printed = orjson.loads(dry.stdout)
    assert {"image": f"{registry.host}/test/cli:1", "digest": digest,
            "sizeBytes": small_image.content_bytes} in printed["images"]
    assert printed["complete"] is True
    listed, _, _ = embedded.store.list(GROUP, PLURAL, version=VERSION)
    assert listed == []  # --dry-run wrote nothing

    kubeconfig = str(tmp_path / "kubeconfig")
    once = agent("--once", "--node-name", node, "--cri-socket", containerd.socket, "--kubeconfig", kubeconfig)
    assert once.exit_code == 0, once.output
    assert once.stdout.startswith(f"{node}: 2 image references from containerd ")
    assert "; inventory written (sha256:" in once.stdout
    body = orjson.loads(session.call("get", session.custom.get_cluster_custom_object, group=GROUP,
                                     version=VERSION, plural=PLURAL, name=node))
    assert body["status"]["agent"]["contentHash"] == printed["contentHash"]

    again = agent("--once", "--node-name", node, "--cri-socket", containerd.socket,
                  "--kubeconfig", kubeconfig)
    assert again.exit_code == 0, again.output
    assert "; inventory unchanged, not written (sha256:" in again.stdout


def test_a_missing_socket_exits_1_with_one_line(tmp_path: Path) -> None:
    missing = str(tmp_path / "containerd.sock")
    result = agent("--dry-run", "--node-name", "edge-1", "--cri-socket", missing)
    assert result.exit_code == 1
    assert result.output.strip().splitlines()[-1] == (
        f"error: CRI socket {missing} does not exist: is the container runtime running, and is its "
        "socket mounted (--cri-socket)?")


def test_a_node_name_is_required_and_checked() -> None:
    assert agent("--dry-run", env={"NODE_NAME": ""}).exit_code == 2
    bad = agent("--dry-run", "--node-name", "Edge_1")
    assert bad.exit_code == 2
    assert "error: --node-name 'Edge_1' is not a node name" in bad.output
