"""`plan --registry` and `sync --registry` end to end (#12): a real docker-registry on 127.0.0.1
holding images the test pushed with skopeo (a two-platform index, an amd64-only image, a tag
that moves), the embedded cluster over real HTTP with amd64 and arm64 edge nodes."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

from reconciler.cli import app
from reconciler.sim.clock import ManualClock
from reconciler.sim.cluster import EmbeddedCluster
from reconciler.sim.kubeedge.fleetgen import FleetOptions
from tests.e2e.conftest import JOB_GROUP, JOB_PLURAL
from tests.realparts.ocilayout import BuiltImage, ImageSpec, push_layout, write_layout
from tests.realparts.registry import RunningRegistry, registry_available, registry_or_skip


@dataclass
class Images:
    registry: RunningRegistry
    layout: Path
    multi: BuiltImage  # test/multi:1, linux/amd64 + linux/arm64
    amd: BuiltImage  # test/amd:1, linux/amd64 only
    moving: BuiltImage  # what test/moving:1 meant when pushed

    def ref(self, path: str) -> str:
        return f"{self.registry.host}/{path}"


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Images]:
    if (reason := registry_available()) is not None:
        pytest.skip(reason)
    base = tmp_path_factory.mktemp("registry-e2e")
    layout = base / "oci"
    multi = write_layout(layout, "multi", [ImageSpec("amd64", payload=os.urandom(3000)),
                                           ImageSpec("arm64", "v8", payload=os.urandom(5000))])
    amd = write_layout(layout, "amd", [ImageSpec("amd64", payload=os.urandom(7000))])
    moving = write_layout(layout, "moving-a", [ImageSpec("amd64", payload=os.urandom(200))])
    with registry_or_skip(base / "reg") as registry:
        push_layout(layout, "multi", f"{registry.host}/test/multi:1")
        push_layout(layout, "amd", f"{registry.host}/test/amd:1")
        push_layout(layout, "moving-a", f"{registry.host}/test/moving:1")
        yield Images(registry, layout, multi, amd, moving)


@pytest.fixture
def live(tmp_path: Path) -> Iterator[tuple[EmbeddedCluster, Path]]:
    """12 Ready edge nodes, some amd64 and some arm64 (kubernetes.io/arch)."""
    options = FleetOptions(nodes=12, offline=0, flapping=0, silent=0, slow=0)
    with EmbeddedCluster(nodes=12, clock=ManualClock(datetime.now(UTC).replace(microsecond=0)),
                         seed=5, fleet=options) as cluster:
        yield cluster, cluster.write_kubeconfig(tmp_path / "kubeconfig")


def arches(cluster: EmbeddedCluster) -> dict[str, str]:
    nodes = cluster.store.list("", "nodes")[0]
    return {n["metadata"]["name"]: n["metadata"]["labels"]["kubernetes.io/arch"] for n in nodes
            if "node-role.kubernetes.io/edge" in n["metadata"]["labels"]}


def fleet_repo(root: Path, insecure: str, *images: str, pin: bool = False) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "fleet.yaml").write_text(
        "apiVersion: edgefleet.io/v1alpha1\nkind: FleetConfig\nmetadata: {name: fleet}\nspec:\n"
        f"  registries: {{insecure: [\"{insecure}\"]}}\n  pinDigests: {str(pin).lower()}\n")
    lines = ["apiVersion: edgefleet.io/v1alpha1", "kind: NodeGroupImages", "metadata: {name: cams}",
             "spec:", "  nodes:", "    selector:", "      matchExpressions:",
             "        - {key: node-role.kubernetes.io/edge, operator: Exists}", "  images:",
             *[f"    - {image}" for image in images]]
    (root / "cams.yaml").write_text("\n".join(lines) + "\n")
    return root


def plan_json(repo: Path, kubeconfig: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    run = CliRunner().invoke(app, ["plan", "--repo", str(repo), "--kubeconfig", str(kubeconfig),
                                   "-o", "json", *extra])
    assert run.exit_code in (0, 2), run.output
    return run.exit_code, orjson.loads(run.stdout)


def pulls(jobs: list[dict[str, Any]]) -> set[tuple[str, str]]:
    """(node, image) pairs the jobs would pull."""
    return {(node, image) for job in jobs
            for node in job["spec"]["imagePrePullTemplate"]["nodeNames"]
            for image in job["spec"]["imagePrePullTemplate"]["images"]}


def test_a_typo_and_a_missing_platform_are_held_and_the_plan_shows_bytes(
        images: Images, live: tuple[EmbeddedCluster, Path], tmp_path: Path) -> None:
    cluster, kubeconfig = live
    arch = arches(cluster)
    assert {"amd64", "arm64"} <= set(arch.values()), "the bed needs both architectures"
    multi, amd, typo = images.ref("test/multi:1"), images.ref("test/amd:1"), images.ref("test/mutli:1")
    repo = fleet_repo(tmp_path / "fleet", images.registry.host, multi, amd, typo)

    _, without = plan_json(repo, kubeconfig)
    assert (next(iter(arch)), typo) in pulls(without["create"])  # today: the typo goes out

    code, the_plan = plan_json(repo, kubeconfig, "--registry")
    assert code == 2
    expected = {(n, multi) for n in arch} | {(n, amd) for n, a in arch.items() if a == "amd64"}
    assert pulls(the_plan["create"]) == expected
    held = {(h["image"], h["reason"]): h for h in the_plan["registry"]["held"]}
    assert held[(typo, "not-in-registry")]["nodes"] == len(arch)
    assert held[(amd, "no-platform")]["nodes"] == sum(a == "arm64" for a in arch.values())
    assert "no linux/arm64 platform (offers linux/amd64)" in held[(amd, "no-platform")]["detail"]
    size = {a: sum(next(m for m in images.multi.manifests if m.spec.architecture == a).layer_sizes)
            for a in ("amd64", "arm64")}
    total = sum(size[a] for a in arch.values()) + sum(
        sum(images.amd.manifests[0].layer_sizes) for a in arch.values() if a == "amd64")
    assert the_plan["registry"]["bytesToTransfer"] == [{"group": "cams", "bytes": total}]

    markdown = CliRunner().invoke(app, ["plan", "--repo", str(repo), "--kubeconfig", str(kubeconfig),
                                        "--registry"])
    assert "#### Registry" in markdown.stdout and "**not-in-registry**" in markdown.stdout


def test_sync_creates_no_job_for_a_held_image_and_says_why(
        images: Images, live: tuple[EmbeddedCluster, Path], tmp_path: Path) -> None:
    cluster, kubeconfig = live
    arch = arches(cluster)
    amd, typo = images.ref("test/amd:1"), images.ref("test/mutli:1")
    repo = fleet_repo(tmp_path / "fleet", images.registry.host, amd, typo)
    run = CliRunner().invoke(app, ["sync", "--repo", str(repo), "--kubeconfig", str(kubeconfig),
                                   "--registry"])
    assert run.exit_code == 0, run.output
    jobs = cluster.store.list(JOB_GROUP, JOB_PLURAL, version=cluster.job_api_version)[0]
    assert pulls(jobs) == {(n, amd) for n, a in arch.items() if a == "amd64"}
    said = f"warning: registry: held {typo} (not-in-registry) on {len(arch)} node(s) of group cams"
    assert said in run.stderr


def test_a_dry_run_from_a_snapshot_holds_the_same_image(
        images: Images, live: tuple[EmbeddedCluster, Path], tmp_path: Path) -> None:
    cluster, kubeconfig = live
    typo = images.ref("test/mutli:1")
    repo = fleet_repo(tmp_path / "fleet", images.registry.host, images.ref("test/amd:1"), typo)
    snapshot = tmp_path / "fleet.snapshot.json.gz"
    taken = CliRunner().invoke(app, ["snapshot", "--kubeconfig", str(kubeconfig), "-o", str(snapshot)])
    assert taken.exit_code == 0, taken.output
    run = CliRunner().invoke(app, ["sync", "--repo", str(repo), "--dry-run", "--snapshot", str(snapshot),
                                   "--registry"])
    assert run.exit_code in (0, 2), run.output
    assert f"warning: registry: held {typo} (not-in-registry)" in run.stderr
    assert cluster.store.list(JOB_GROUP, JOB_PLURAL, version=cluster.job_api_version)[0] == []


def test_a_pinned_group_pulls_the_digest_and_keeps_it_when_the_tag_moves(
        images: Images, live: tuple[EmbeddedCluster, Path], tmp_path: Path) -> None:
    cluster, kubeconfig = live
    moving = images.ref("test/moving:1")
    repo = fleet_repo(tmp_path / "fleet", images.registry.host, moving, pin=True)
    first = images.moving.digest
    _, the_plan = plan_json(repo, kubeconfig, "--registry")
    assert {image for _, image in pulls(the_plan["create"])} == {f"{moving}@{first}"}
    sync = ["sync", "--repo", str(repo), "--kubeconfig", str(kubeconfig), "--registry"]
    assert CliRunner().invoke(app, sync).exit_code == 0
    created = {j["metadata"]["name"] for j in cluster.store.list(
        JOB_GROUP, JOB_PLURAL, version=cluster.job_api_version)[0]}

    write_layout(images.layout, "moving-b", [ImageSpec("amd64", payload=os.urandom(100))])
    push_layout(images.layout, "moving-b", moving)  # the tag moves while the job runs
    again = CliRunner().invoke(app, sync)
    assert again.exit_code == 0, again.output
    after = cluster.store.list(JOB_GROUP, JOB_PLURAL, version=cluster.job_api_version)[0]
    assert {j["metadata"]["name"] for j in after} == created  # nothing deleted, nothing new
    assert {image for _, image in pulls(after)} == {f"{moving}@{first}"}


def test_an_unreachable_registry_plans_as_today_with_a_warning_and_deletes_nothing(
        images: Images, live: tuple[EmbeddedCluster, Path], tmp_path: Path) -> None:
    cluster, kubeconfig = live
    arch = arches(cluster)
    down = f"127.0.0.1:{_closed_port()}"
    app_image, pinned_image = f"{down}/app/api:1", f"{down}/app/pinned:1"
    repo = fleet_repo(tmp_path / "fleet", down, app_image)
    run = CliRunner().invoke(app, ["sync", "--repo", str(repo), "--kubeconfig", str(kubeconfig),
                                   "--registry"])
    assert run.exit_code == 0, run.output
    assert f"warning: registry facts unknown for {app_image}: " in run.stderr
    assert "planned without a registry check" in run.stderr
    jobs = cluster.store.list(JOB_GROUP, JOB_PLURAL, version=cluster.job_api_version)[0]
    assert pulls(jobs) == {(n, app_image) for n in arch}

    pinned = fleet_repo(tmp_path / "pinned", down, app_image, pinned_image, pin=True)
    _, the_plan = plan_json(pinned, kubeconfig, "--registry")
    assert the_plan["delete"] == [] and the_plan["create"] == []
    assert {(h["image"], h["reason"]) for h in the_plan["registry"]["held"]} == {
        (pinned_image, "registry-unreachable")}  # app_image is in flight: nothing to hold
    assert any("held: pinDigests needs its digest" in w for w in the_plan["warnings"])


def _closed_port() -> int:
    from tests.gitserve import free_port

    return free_port()  # nothing listens there: connection refused


def test_registry_options_without_registry_are_one_line_errors(tmp_path: Path) -> None:
    repo = fleet_repo(tmp_path / "fleet", "127.0.0.1:1", "127.0.0.1:1/app:1")
    for command in ("plan", "sync"):
        run = CliRunner().invoke(app, [command, "--repo", str(repo), "--insecure-registry", "127.0.0.1:1"])
        assert run.exit_code == 1
        assert run.stderr.strip().splitlines() == [
            "error: --insecure-registry, --docker-config and --registry-ca need --registry"]
    config = tmp_path / "config.json"
    config.write_text('{"auths": {"127.0.0.1:1": {"auth": "not base64 s3cret!"}}}')
    run = CliRunner().invoke(app, ["plan", "--repo", str(repo), "--nodes", str(config), "--registry",
                                   "--docker-config", str(config)])
    assert run.exit_code == 1 and "s3cret" not in run.output
    assert run.stderr.startswith(f"error: --docker-config {config}: ")


def test_drift_names_each_held_pair_and_the_bytes_per_group_and_site(
        images: Images, live: tuple[EmbeddedCluster, Path], tmp_path: Path) -> None:
    cluster, kubeconfig = live
    arch = arches(cluster)
    multi, amd, typo = images.ref("test/multi:1"), images.ref("test/amd:1"), images.ref("test/mutli:1")
    repo = fleet_repo(tmp_path / "fleet", images.registry.host, multi, amd, typo)
    run = CliRunner().invoke(app, ["drift", "--repo", str(repo), "--kubeconfig", str(kubeconfig),
                                   "-o", "json", "--registry"])
    assert run.exit_code == 2, run.output
    report = orjson.loads(run.stdout)
    reasons = {(p["node"], p["image"]): p["reason"] for p in report["pairs"]}
    assert {k: r for k, r in reasons.items() if r in ("not-in-registry", "no-platform")} == (
        {(n, typo): "not-in-registry" for n in arch}
        | {(n, amd): "no-platform" for n, a in arch.items() if a == "arm64"})
    counted = {a["key"]: a["pairs"] for a in report["aggregates"]["reasons"]}
    assert counted["not-in-registry"] == len(arch)
    # The drift report's bytes are the plan's: per group, and per site of the site label.
    _, the_plan = plan_json(repo, kubeconfig, "--registry")
    section = the_plan["registry"]
    assert [{"group": b["key"], "bytes": b["bytes"]} for b in report["transfer"]["groups"]] == (
        section["bytesToTransfer"])
    assert [{"site": b["key"], "bytes": b["bytes"]} for b in report["transfer"]["sites"]] == (
        section["bytesToTransferPerSite"])
    assert report["siteLabel"] == section["siteLabel"] == "topology.kubernetes.io/zone"
