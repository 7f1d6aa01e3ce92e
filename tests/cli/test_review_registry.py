"""`edgefleet review --registry` (#12): the pull-request comment catches a typo in a tag before
merge. A real docker-registry on 127.0.0.1 holds images the test pushed with skopeo (a
two-platform index and an amd64-only image); the fleet repository is served by `git daemon`;
the cluster facts are a snapshot of the embedded cluster (amd64 and arm64 edge nodes)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner, Result

from reconciler.cli import app
from reconciler.sim.clock import ManualClock
from reconciler.sim.cluster import EmbeddedCluster
from reconciler.sim.kubeedge.fleetgen import FleetOptions
from tests.e2e.conftest import fleet_config
from tests.fleetrepo import FleetRepo
from tests.gitserve import serve_git_daemon
from tests.realparts.ocilayout import BuiltImage, ImageSpec, push_layout, write_layout
from tests.realparts.registry import RunningRegistry, registry_available, registry_or_skip

NODES = 10
SITE_LABEL = "topology.edgefleet.io/site"  # the embedded cluster's site label


@dataclass(frozen=True)
class Bed:
    registry: RunningRegistry
    multi: BuiltImage  # test/multi:1, linux/amd64 + linux/arm64
    amd: BuiltImage  # test/amd:1, linux/amd64 only
    snapshot: Path
    arch: dict[str, str]  # edge node -> kubernetes.io/arch
    site: dict[str, str]  # edge node -> its site label

    def ref(self, path: str) -> str:
        return f"{self.registry.host}/{path}"


@pytest.fixture(scope="module")
def bed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bed]:
    if (reason := registry_available()) is not None:
        pytest.skip(reason)
    base = tmp_path_factory.mktemp("review-registry")
    layout = base / "oci"
    multi = write_layout(layout, "multi", [ImageSpec("amd64", payload=os.urandom(3000)),
                                           ImageSpec("arm64", "v8", payload=os.urandom(5000))])
    amd = write_layout(layout, "amd", [ImageSpec("amd64", payload=os.urandom(7000))])
    options = FleetOptions(nodes=NODES, sites=("line-a", "line-b"), node_group_sites=("line-a", "line-b"),
                           named_nodes=(), control_plane=1, offline=0, flapping=0, silent=0, slow=0,
                           images_min=3, images_max=5)
    with EmbeddedCluster(nodes=NODES, clock=ManualClock(), seed=3, fleet=options) as cluster:
        kubeconfig = cluster.write_kubeconfig(base / "kubeconfig")
        snapshot = base / "fleet-snapshot.json.gz"
        taken = CliRunner().invoke(app, ["snapshot", "--kubeconfig", str(kubeconfig), "--out", str(snapshot)])
        assert taken.exit_code == 0, taken.output
        labels = {n["metadata"]["name"]: n["metadata"]["labels"] for n in cluster.store.list("", "nodes")[0]
                  if "node-role.kubernetes.io/edge" in n["metadata"]["labels"]}
    with registry_or_skip(base / "reg") as registry:
        push_layout(layout, "multi", f"{registry.host}/test/multi:1")
        push_layout(layout, "amd", f"{registry.host}/test/amd:1")
        yield Bed(registry, multi, amd, snapshot,
                  {n: lab["kubernetes.io/arch"] for n, lab in labels.items()},
                  {n: lab[SITE_LABEL] for n, lab in labels.items()})


def fleet_files(*images: str) -> dict[str, bytes]:
    """A FleetConfig whose drift report cuts sites by the embedded cluster's site label, and one
    group `line` of every edge node (both sites) with these images."""
    config = fleet_config(4, 100).decode().rstrip("\n")
    config += f"\n  driftReport:\n    schedule: \"0 6 * * *\"\n    siteLabel: {SITE_LABEL}\n"
    group = ["apiVersion: edgefleet.io/v1alpha1", "kind: NodeGroupImages", "metadata: {name: line}",
             "spec:", "  nodes:", "    selector:", "      matchExpressions:",
             "        - {key: node-role.kubernetes.io/edge, operator: Exists}", "  images:",
             *[f"    - {image}" for image in images]]
    return {"fleet.yaml": config.encode(), "groups/line.yaml": ("\n".join(group) + "\n").encode()}


@pytest.fixture
def served(tmp_path: Path, bed: Bed) -> Iterator[tuple[FleetRepo, str]]:
    repo = FleetRepo(tmp_path / "served" / "fleet.git")
    repo.commit(fleet_files(bed.ref("test/multi:1")), "Line A: the multi-arch app")
    with serve_git_daemon(tmp_path / "served") as url:
        yield repo, f"{url}/fleet.git"


def review(bed: Bed, url: str, *args: str) -> Result:
    return CliRunner().invoke(app, [
        "review", "--repo", url, "--base", "main", "--head", "change", "--snapshot", str(bed.snapshot),
        "--dry-run", "--registry", "--insecure-registry", bed.registry.host, *args])


def layer_bytes(image: BuiltImage, arch: str) -> int:
    return sum(next(m for m in image.manifests if m.spec.architecture == arch).layer_sizes)


def test_the_comment_flags_a_typo_and_a_missing_platform_and_shows_bytes_per_group_and_site(
        bed: Bed, served: tuple[FleetRepo, str]) -> None:
    assert {"amd64", "arm64"} <= set(bed.arch.values()), "the bed needs both architectures"
    repo, url = served
    multi, amd, typo = bed.ref("test/multi:1"), bed.ref("test/amd:1"), bed.ref("test/mutli:2")
    repo.commit(fleet_files(multi, amd, typo), "Add the amd64 tool and bump", branch="change")

    run = review(bed, url)
    assert run.exit_code == 2, run.output
    comment = run.stdout
    arm = sum(a == "arm64" for a in bed.arch.values())
    assert (f"- :warning: `{typo}` is held (not-in-registry) on {NODES} node(s) of group `line`: "
            f"tag '2' not found in {bed.ref('test/mutli')}") in comment
    assert f"- :warning: `{amd}` is held (no-platform) on {arm} node(s) of group `line`: " in comment
    assert f"| `{typo}` | **not-in-registry** | `line` | {NODES} |" in comment
    # Bytes of what the head sends: the multi image (its platform per node), amd only on amd64.
    per_node = {n: layer_bytes(bed.multi, a) + (layer_bytes(bed.amd, a) if a == "amd64" else 0)
                for n, a in bed.arch.items()}
    total = sum(per_node.values())
    assert f"- Bytes to transfer per group: `line` {total / 1024:,.1f} KiB ({total:,} B)." in comment
    sites: dict[str, int] = {}
    for node, size in per_node.items():
        sites[bed.site[node]] = sites.get(bed.site[node], 0) + size
    assert f"- Per site (label `{SITE_LABEL}`): " in comment
    for site, size in sites.items():
        assert f"`{site}` {size / 1024:,.1f} KiB ({size:,} B)" in comment


def test_fail_on_registry_fails_the_check_on_a_typo_but_not_on_a_clean_change(
        bed: Bed, served: tuple[FleetRepo, str]) -> None:
    repo, url = served
    multi, typo = bed.ref("test/multi:1"), bed.ref("test/multi:1.0.1")
    repo.commit(fleet_files(multi, typo), "Typo in a tag", branch="change")
    run = review(bed, url, "--fail-on", "registry")
    assert run.exit_code == 1, run.output
    assert (f"error: --fail-on registry: `{typo}` is held (not-in-registry) on {NODES} node(s) "
            "of group `line`") in run.stderr

    repo.commit(fleet_files(multi), "Fix the typo", branch="change")
    fixed = review(bed, url, "--fail-on", "registry")
    assert fixed.exit_code == 0, fixed.output  # the head is the base again
    assert "held (not-in-registry)" not in fixed.stdout


def test_without_registry_the_typo_goes_unnoticed(bed: Bed, served: tuple[FleetRepo, str]) -> None:
    repo, url = served
    typo = bed.ref("test/mutli:1")
    repo.commit(fleet_files(bed.ref("test/multi:1"), typo), "Typo", branch="change")
    run = CliRunner().invoke(app, ["review", "--repo", url, "--base", "main", "--head", "change",
                                   "--snapshot", str(bed.snapshot), "--dry-run", "--fail-on", "registry"])
    assert run.exit_code == 2, run.output  # the rollout changes; nothing is held
    assert "not-in-registry" not in run.stdout and "#### Registry" not in run.stdout
    # and the head plan does send the typo: what --registry prevents
    plan = CliRunner().invoke(app, ["plan", "--repo", url, "--rev", "change", "--snapshot",
                                    str(bed.snapshot), "-o", "json"])
    images = {i for job in orjson.loads(plan.stdout)["create"]
              for i in job["spec"]["imagePrePullTemplate"]["images"]}
    assert typo in images
