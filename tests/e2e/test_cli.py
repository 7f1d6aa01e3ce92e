"""`edgefleet plan` and `edgefleet sync` as users run them, against the embedded cluster over
HTTP: snapshots taken with real kubectl, the example fleet repository, exit codes."""

from __future__ import annotations

import copy
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema
import orjson
import pytest
from ruamel.yaml import YAML
from typer.testing import CliRunner

from reconciler.cli import app
from reconciler.desired import desired_state
from reconciler.manifests import load_fleet
from reconciler.manifests.imageref import normalize_image
from reconciler.observed import decode_nodes
from reconciler.sim.clock import ManualClock
from reconciler.sim.cluster import EmbeddedCluster
from reconciler.sim.kubeedge.fleetgen import FleetOptions
from reconciler.source import read_worktree
from tests.e2e.conftest import (
    AGENT_V1,
    AGENT_V2,
    INVENTORIES,
    JOB_GROUP,
    JOB_PLURAL,
    MOSQUITTO,
    REPO_ROOT,
    UPSTREAM_CRDS,
    Bed,
    fleet_files,
)
from tests.fleetrepo import FleetRepo

EXAMPLES = REPO_ROOT / "fleet-examples"
KUBECTL = Path(sys.executable).parent / "kubectl"
SECRETS = ("kubeedge/registry-cred", "vision/model-pull", "vision/pull-cred", "toll/pull-cred")


@pytest.fixture(params=["1.21", "1.16"])
def live(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[EmbeddedCluster, Path]]:
    """The example fleet's sites, 40 edge nodes, every pull secret of fleet-examples present.
    The manual clock starts at the wall clock's now, which the CLI plans with."""
    options = FleetOptions(nodes=40, offline=0.1, flapping=0, silent=0, slow=0)
    start = datetime.now(UTC).replace(microsecond=0)
    with EmbeddedCluster(nodes=40, kubeedge=request.param, clock=ManualClock(start), seed=3,
                         fleet=options) as cluster:
        for secret in SECRETS:
            cluster.add_pull_secret(secret)
        yield cluster, cluster.write_kubeconfig(tmp_path / "kubeconfig")


def edgefleet(*args: str) -> subprocess.CompletedProcess[str]:
    """The real command line, in a child process."""
    return subprocess.run([sys.executable, "-m", "reconciler", *args], capture_output=True,
                          text=True, timeout=60, check=False)


def strict(schema: Any) -> Any:
    """The CRD schema with unknown fields refused (what fieldValidation=Strict does)."""
    schema = copy.deepcopy(schema)
    stack = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if "properties" in node and "additionalProperties" not in node:
                node["additionalProperties"] = False
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return schema


def upstream_schemas() -> dict[str, Any]:
    schemas = {}
    for file in sorted(UPSTREAM_CRDS.glob("operations_*_imageprepulljob*.yaml")):
        crd = YAML(typ="safe").load(file.read_text())
        for version in crd["spec"]["versions"]:
            schemas[f"{file.name}:{version['name']}"] = strict(version["schema"]["openAPIV3Schema"])
    return schemas


def test_plan_from_a_kubectl_snapshot_covers_every_missing_pair_exactly_once(
        live: tuple[EmbeddedCluster, Path], tmp_path: Path) -> None:
    _, kubeconfig = live
    snapshot = subprocess.run([str(KUBECTL), "--kubeconfig", str(kubeconfig), "get", "nodes", "-o",
                               "json"], capture_output=True, check=True, timeout=60).stdout
    (tmp_path / "snap.json").write_bytes(snapshot)
    run = edgefleet("plan", "--repo", str(EXAMPLES), "--nodes", str(tmp_path / "snap.json"),
                    "--output", "json")
    assert run.returncode == 2, run.stderr
    plan = orjson.loads(run.stdout)

    # The oracle: every desired pair of every Ready edge node (nodes report no images by
    # default, so all of them are missing), NotReady ones deferred.
    nodes = decode_nodes(snapshot, normalize=normalize_image)
    loaded = load_fleet(read_worktree(EXAMPLES).files)
    assert loaded.fleet is not None
    desired = desired_state(loaded.fleet, nodes)
    ready = {n.name for n in nodes if n.ready}
    expected = {(node, image) for node, d in desired.nodes.items() if node in ready
                for image in d.image_set}
    planned = Counter((node, image) for job in plan["create"]
                      for node in job["spec"]["imagePrePullTemplate"]["nodeNames"]
                      for image in job["spec"]["imagePrePullTemplate"]["images"])
    assert set(planned) == expected
    assert max(planned.values()) == 1
    assert {d["node"] for d in plan["deferred"]} == set(desired.nodes) - ready
    assert set(desired.nodes) - ready, "the fleet should have offline nodes to defer"
    assert plan["revision"] is None  # a plain directory
    assert plan["summary"]["jobsCreate"] == len(plan["create"])

    schemas = upstream_schemas()
    assert len(schemas) >= 3
    for job in plan["create"]:
        for name, schema in schemas.items():
            try:
                jsonschema.validate(job, schema)
            except jsonschema.ValidationError as error:
                raise AssertionError(f"{job['metadata']['name']} vs {name}: {error.message}") from None


def sync(kubeconfig: Path, *args: str) -> Any:
    return CliRunner().invoke(app, ["sync", "--repo", str(EXAMPLES), "--kubeconfig",
                                    str(kubeconfig), *args])


def job_names(cluster: EmbeddedCluster) -> set[str]:
    items = cluster.store.list(JOB_GROUP, JOB_PLURAL, version=cluster.job_api_version)[0]
    return {j["metadata"]["name"] for j in items}


def test_sync_converges_and_a_second_run_creates_nothing(live: tuple[EmbeddedCluster, Path]) -> None:
    cluster, kubeconfig = live
    first = sync(kubeconfig, "--install-crds")
    assert first.exit_code == 0, first.output
    assert "create ImagePrePullJob ef-" in first.stderr
    created = job_names(cluster)
    assert created
    again = sync(kubeconfig)  # at once: the jobs are in flight, seen by label, not memory
    assert again.exit_code == 0, again.output
    assert "create ImagePrePullJob" not in again.stderr
    assert job_names(cluster) == created
    for _ in range(10):
        cluster.advance(180)
        result = sync(kubeconfig)
        assert result.exit_code == 0, result.output
        if result.stdout.startswith("converged"):
            break
    else:
        raise AssertionError(f"sync did not converge: {result.output}")
    final = sync(kubeconfig)
    assert final.stdout.startswith("converged") and "create ImagePrePullJob" not in final.stderr
    nothing_to_do = CliRunner().invoke(app, ["plan", "--repo", str(EXAMPLES), "--kubeconfig",
                                             str(kubeconfig)])
    assert nothing_to_do.exit_code == 0, nothing_to_do.output


def test_sync_dry_run_writes_nothing(live: tuple[EmbeddedCluster, Path]) -> None:
    cluster, kubeconfig = live
    assert sync(kubeconfig, "--install-crds").exit_code == 0
    for name in job_names(cluster):
        cluster.store.delete(JOB_GROUP, JOB_PLURAL, name)
    cluster.step()
    before = cluster.store.list("edgefleet.io", "edgenodeinventories")[1]
    result = sync(kubeconfig, "--dry-run")
    assert result.exit_code == 0, result.output
    assert "(dry run)" in result.stderr
    assert "would write" in result.stdout
    assert job_names(cluster) == set()
    assert cluster.store.list("edgefleet.io", "edgenodeinventories")[1] == before


def test_plan_exit_codes_and_one_line_errors(live: tuple[EmbeddedCluster, Path], tmp_path: Path) -> None:
    cluster, kubeconfig = live
    live_plan = ["plan", "--repo", str(EXAMPLES), "--kubeconfig", str(kubeconfig), "-o", "json"]
    changes = CliRunner().invoke(app, live_plan)
    assert changes.exit_code == 2, changes.output
    assert orjson.loads(changes.stdout)["jobApiVersion"] == f"{JOB_GROUP}/{cluster.job_api_version}"

    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "group.yaml").write_text(
        "apiVersion: edgefleet.io/v1alpha1\nkind: NodeGroupImages\nmetadata: {name: x}\n"
        "spec:\n  nodes: {names: [a]}\n  imagez: [nginx]\n")
    bad = CliRunner().invoke(app, ["plan", "--repo", str(broken), "--kubeconfig", str(kubeconfig)])
    assert bad.exit_code == 1
    assert bad.stderr.startswith("group.yaml:6:")
    assert "Traceback" not in bad.output

    # (An unreachable server is retried with backoff first: tests/kube covers that on a fake clock.)
    nowhere = CliRunner().invoke(app, ["plan", "--repo", str(EXAMPLES), "--kubeconfig", str(kubeconfig),
                                       "--context", "nowhere"])
    assert nowhere.exit_code == 1
    assert nowhere.stderr.count("\n") == 1 and nowhere.stderr.startswith("error: kubeconfig ")
    assert "nowhere" in nowhere.stderr


@pytest.mark.parametrize("kubeedge", ["1.21"])
def test_plan_base_shows_what_a_change_does_from_a_git_url(bed: Bed, served_repo: tuple[FleetRepo, str],
                                                          tmp_path: Path) -> None:
    repo, url = served_repo
    base = repo.repo.head.target
    repo.commit(fleet_files(MOSQUITTO, AGENT_V2), "Bump the line agent")
    nodes = tmp_path / "nodes.json"
    nodes.write_bytes(subprocess.run(
        [str(KUBECTL), "--kubeconfig", str(tmp_path / "kubeconfig"), "get", "nodes", "-o", "json"],
        capture_output=True, check=True, timeout=60).stdout)
    run = CliRunner().invoke(app, ["plan", "--repo", url, "--rev", "main", "--base", str(base),
                                   "--nodes", str(nodes), "-o", "json"])
    assert run.exit_code == 2, run.output
    plan = orjson.loads(run.stdout)
    assert plan["revision"] == str(repo.repo.head.target)
    assert plan["changes"]["base"] == str(base)
    (change,) = plan["changes"]["groups"]
    assert (change["name"], change["imagesAdded"], change["imagesRemoved"]) == (
        "line", [AGENT_V2], [AGENT_V1])
    assert change["pairsBecomingMissing"] == len(bed.cluster.edge_names())
    markdown = CliRunner().invoke(app, ["plan", "--repo", url, "--base", str(base), "--nodes", str(nodes)])
    assert markdown.exit_code == 2
    assert AGENT_V2 in markdown.stdout
    assert f"Changes from `{str(base)[:12]}`" in markdown.stdout


def kubectl_json(kubeconfig: Path, resource: str) -> bytes:
    return subprocess.run([str(KUBECTL), "--kubeconfig", str(kubeconfig), "get", resource, "-o", "json"],
                          capture_output=True, check=True, timeout=60).stdout


def test_a_plan_from_snapshots_sees_jobs_in_flight_as_the_live_plan_does(
        live: tuple[EmbeddedCluster, Path], tmp_path: Path) -> None:
    cluster, kubeconfig = live
    assert sync(kubeconfig, "--install-crds").exit_code == 0
    for resource in ("nodes", "imageprepulljobs", "edgenodeinventories"):
        (tmp_path / f"{resource}.json").write_bytes(kubectl_json(kubeconfig, resource))
    snap = CliRunner().invoke(app, [
        "plan", "--repo", str(EXAMPLES), "-o", "json", "--nodes", str(tmp_path / "nodes.json"),
        "--jobs", str(tmp_path / "imageprepulljobs.json"),
        "--inventories", str(tmp_path / "edgenodeinventories.json")])
    live_plan = CliRunner().invoke(app, ["plan", "--repo", str(EXAMPLES), "-o", "json",
                                         "--kubeconfig", str(kubeconfig)])
    assert snap.exit_code == live_plan.exit_code == 0, snap.output  # everything is in flight
    from_snapshot, from_cluster = orjson.loads(snap.stdout), orjson.loads(live_plan.stdout)
    assert from_snapshot["jobApiVersion"] == f"{JOB_GROUP}/{cluster.job_api_version}"
    assert from_snapshot["summary"] == from_cluster["summary"]
    assert from_snapshot["summary"]["pairsInFlight"] > 0


def test_an_unknown_job_api_version_is_one_line_and_exit_1(tmp_path: Path) -> None:
    nodes = tmp_path / "nodes.json"
    nodes.write_bytes(orjson.dumps({"apiVersion": "v1", "kind": "List", "items": []}))
    run = edgefleet("plan", "--repo", str(EXAMPLES), "--nodes", str(nodes), "--job-api-version", "foo/v9")
    assert run.returncode == 1
    assert run.stderr.strip().splitlines() == [
        "error: --job-api-version 'foo/v9': expected one of operations.kubeedge.io/v1alpha1, "
        "operations.kubeedge.io/v1alpha2"]


def test_plan_exits_2_while_sync_would_still_record_evidence(live: tuple[EmbeddedCluster, Path]) -> None:
    cluster, kubeconfig = live
    assert sync(kubeconfig, "--install-crds").exit_code == 0
    cluster.advance(900)  # every job finishes; nobody has recorded what they pulled yet
    live_plan = ["plan", "--repo", str(EXAMPLES), "--kubeconfig", str(kubeconfig), "-o", "json"]
    pending = CliRunner().invoke(app, live_plan)
    plan = orjson.loads(pending.stdout)
    assert (plan["create"], plan["delete"]) == ([], [])  # no job to create or delete...
    assert cluster.store.list(*INVENTORIES)[0] == []
    assert pending.exit_code == 2, pending.output  # ...but sync would write the inventories
    assert sync(kubeconfig).exit_code == 0
    assert cluster.store.list(*INVENTORIES)[0] != []
    assert CliRunner().invoke(app, live_plan).exit_code == 0
