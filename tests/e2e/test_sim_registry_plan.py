"""Done means of #12 on the embedded cluster with its simulated registry (not docker-registry):
a typo'd tag is flagged by `plan --registry` and gets no job from `sync`, an arm64 group gets
only images that have arm64, the plan shows bytes per group, and the nodes then hold the very
digests the registry serves."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from typer.testing import CliRunner

from reconciler.cli import app
from reconciler.sim.clock import ManualClock
from reconciler.sim.cluster import EmbeddedCluster
from reconciler.sim.kubeedge.fleetgen import FleetOptions
from tests.e2e.conftest import JOB_GROUP, JOB_PLURAL


@pytest.fixture
def live(tmp_path: Path) -> Iterator[tuple[EmbeddedCluster, Path]]:
    """12 Ready edge nodes (amd64 and arm64) and the simulated registry."""
    options = FleetOptions(nodes=12, offline=0, flapping=0, silent=0, slow=0)
    with EmbeddedCluster(nodes=12, clock=ManualClock(datetime.now(UTC).replace(microsecond=0)),
                         seed=5, fleet=options, registry_port=0) as cluster:
        yield cluster, cluster.write_kubeconfig(tmp_path / "kubeconfig")


def arches(cluster: EmbeddedCluster) -> dict[str, str]:
    nodes = cluster.store.list("", "nodes")[0]
    return {n["metadata"]["name"]: n["metadata"]["labels"]["kubernetes.io/arch"] for n in nodes
            if "node-role.kubernetes.io/edge" in n["metadata"]["labels"]}


def fleet_repo(root: Path, host: str, groups: dict[str, tuple[str, list[str]]]) -> Path:
    """FleetConfig listing the simulated registry as insecure; group name -> (arch, images)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "fleet.yaml").write_text(
        "apiVersion: edgefleet.io/v1alpha1\nkind: FleetConfig\nmetadata: {name: fleet}\nspec:\n"
        f"  registries: {{insecure: [\"{host}\"]}}\n")
    for name, (arch, images) in groups.items():
        (root / f"{name}.yaml").write_text("\n".join([
            "apiVersion: edgefleet.io/v1alpha1", "kind: NodeGroupImages", f"metadata: {{name: {name}}}",
            "spec:", "  nodes:", "    selector:", "      matchLabels:", f"        kubernetes.io/arch: {arch}",
            "  images:", *[f"    - {image}" for image in images]]) + "\n")
    return root


def pulls(jobs: list[dict[str, Any]]) -> set[tuple[str, str]]:
    return {(node, image) for job in jobs
            for node in job["spec"]["imagePrePullTemplate"]["nodeNames"]
            for image in job["spec"]["imagePrePullTemplate"]["images"]}


def test_plan_and_sync_against_the_simulated_registry(live: tuple[EmbeddedCluster, Path],
                                                      tmp_path: Path) -> None:
    cluster, kubeconfig = live
    arch, host = arches(cluster), cluster.registry_host
    assert {"amd64", "arm64"} <= set(arch.values()), "the bed needs both architectures"
    nginx, inspector, typo = (f"{host}/library/nginx:1.27", f"{host}/vision/inspector:2.5.0",
                              f"{host}/library/nginx:1.277")
    both = [nginx, inspector, typo]
    repo = fleet_repo(tmp_path / "fleet", host, {"x86": ("amd64", both), "arm": ("arm64", both)})

    run = CliRunner().invoke(app, ["plan", "--repo", str(repo), "--kubeconfig", str(kubeconfig),
                                   "-o", "json", "--registry"])
    assert run.exit_code == 2, run.output
    the_plan = orjson.loads(run.stdout)
    amd, arm = ([n for n, a in arch.items() if a == want] for want in ("amd64", "arm64"))
    assert pulls(the_plan["create"]) == {(n, i) for n in amd for i in (nginx, inspector)} | {
        (n, nginx) for n in arm}
    held = {(h["group"], h["image"], h["reason"]): h["nodes"] for h in the_plan["registry"]["held"]}
    assert held == {("x86", typo, "not-in-registry"): len(amd), ("arm", typo, "not-in-registry"): len(arm),
                    ("arm", inspector, "no-platform"): len(arm)}
    size = {ref: cluster.catalogue.lookup(ref).size for ref in (nginx, inspector)}  # type: ignore[union-attr]
    assert sorted(the_plan["registry"]["bytesToTransfer"], key=lambda b: b["group"]) == [
        {"group": "arm", "bytes": len(arm) * size[nginx]},
        {"group": "x86", "bytes": len(amd) * (size[nginx] + size[inspector])}]

    markdown = CliRunner().invoke(app, ["plan", "--repo", str(repo), "--kubeconfig", str(kubeconfig),
                                        "--registry"]).stdout
    assert "- Bytes to transfer per group: `arm` " in markdown and "**no-platform** | `arm`" in markdown

    sync = CliRunner().invoke(app, ["sync", "--repo", str(repo), "--kubeconfig", str(kubeconfig),
                                    "--registry"])
    assert sync.exit_code == 0, sync.output
    assert f"warning: registry: held {typo} (not-in-registry)" in sync.stderr
    jobs = cluster.store.list(JOB_GROUP, JOB_PLURAL, version=cluster.job_api_version)[0]
    assert jobs and all(typo not in j["spec"]["imagePrePullTemplate"]["images"] for j in jobs)

    cluster.advance(3600)  # the jobs run: every node pulls what it was sent
    with httpx.Client() as http:
        served = {ref: http.head(f"http://{host}/v2/{path.replace(':', '/manifests/')}")
                  .headers["Docker-Content-Digest"]
                  for ref, path in ((r, r.removeprefix(f"{host}/")) for r in (nginx, inspector))}
    for node, image in pulls(jobs):
        with cluster.simulation.lock:
            held_image = cluster.nodes[node].edge.images[image].image
        assert held_image.repo_digest == f"{image.rpartition(':')[0]}@{served[image]}"
