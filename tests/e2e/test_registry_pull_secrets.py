"""`--registry` authenticated with the groups' pull secrets (#12): a real docker-registry behind
TLS (a CA the test made) with htpasswd basic auth, the embedded cluster holding the secret,
created with real kubectl. The registry check sees a typo only when it is authenticated; the
password never appears in the output, the plan or the logs."""

from __future__ import annotations

import base64
import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner, Result

from reconciler.cli import app
from reconciler.sim.clock import ManualClock
from reconciler.sim.cluster import EmbeddedCluster
from reconciler.sim.kubeedge.fleetgen import FleetOptions
from tests.e2e.conftest import JOB_GROUP, JOB_PLURAL
from tests.realparts.ocilayout import ImageSpec, push_layout, write_layout
from tests.realparts.registry import (
    RunningRegistry,
    TlsFiles,
    make_tls,
    registry_available,
    registry_or_skip,
    write_htpasswd,
)

KUBECTL = Path(sys.executable).parent / "kubectl"
USER, PASSWORD = "fleet-robot", "Pull-S3cret-never-in-a-plan"
SECRET = "vision/pull-cred"


@dataclass(frozen=True)
class Secured:
    registry: RunningRegistry
    tls: TlsFiles

    def ref(self, path: str) -> str:
        return f"{self.registry.host}/{path}"


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Secured]:
    if (reason := registry_available()) is not None:
        pytest.skip(reason)
    base = tmp_path_factory.mktemp("pull-secrets")
    tls = make_tls(base / "tls")
    htpasswd = write_htpasswd(base / "htpasswd", USER, PASSWORD)
    write_layout(base / "oci", "1", [ImageSpec("amd64", payload=os.urandom(2000)),
                                      ImageSpec("arm64", "v8", payload=os.urandom(2500))])
    with registry_or_skip(base / "reg", tls=tls, htpasswd=htpasswd) as registry:
        push_layout(base / "oci", "1", f"{registry.host}/vision/detector:1", creds=f"{USER}:{PASSWORD}")
        yield Secured(registry, tls)


@pytest.fixture
def live(tmp_path: Path) -> Iterator[tuple[EmbeddedCluster, Path]]:
    options = FleetOptions(nodes=6, offline=0, flapping=0, silent=0, slow=0)
    with EmbeddedCluster(nodes=6, clock=ManualClock(datetime.now(UTC).replace(microsecond=0)),
                         seed=5, fleet=options) as cluster:
        yield cluster, cluster.write_kubeconfig(tmp_path / "kubeconfig")


def kubectl(kubeconfig: Path, *args: str) -> None:
    """`kubectl create ...` as a client-side manifest, then `kubectl apply -f -` (the embedded
    API server reads JSON and YAML bodies, not the protobuf imperative creates send)."""
    made = subprocess.run([str(KUBECTL), *args, "--dry-run=client", "-o", "yaml"],
                          capture_output=True, text=True, check=False, timeout=60)
    assert made.returncode == 0, made.stderr
    done = subprocess.run([str(KUBECTL), "--kubeconfig", str(kubeconfig), "apply", "-f", "-"],
                          input=made.stdout, capture_output=True, text=True, check=False, timeout=60)
    assert done.returncode == 0, done.stderr


def docker_registry_secret(kubeconfig: Path, server: str, *, password: str = PASSWORD) -> None:
    """`kubectl create secret docker-registry`: the standard {"auths": {...}} layout."""
    kubectl(kubeconfig, "create", "namespace", "vision")
    kubectl(kubeconfig, "create", "secret", "docker-registry", "pull-cred", "-n", "vision",
            f"--docker-server={server}", f"--docker-username={USER}", f"--docker-password={password}")


def fleet_repo(root: Path, *images: str, secret: str | None = SECRET) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "fleet.yaml").write_text(
        "apiVersion: edgefleet.io/v1alpha1\nkind: FleetConfig\nmetadata: {name: fleet}\nspec: {}\n")
    lines = ["apiVersion: edgefleet.io/v1alpha1", "kind: NodeGroupImages", "metadata: {name: cams}",
             "spec:", "  nodes:", "    selector:", "      matchExpressions:",
             "        - {key: node-role.kubernetes.io/edge, operator: Exists}", "  images:",
             *[f"    - {image}" for image in images]]
    if secret is not None:
        lines.append(f"  imageSecret: {secret}")
    (root / "cams.yaml").write_text("\n".join(lines) + "\n")
    return root


def invoke(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def plan_json(secured: Secured, repo: Path, kubeconfig: Path, *extra: str) -> tuple[Result, dict[str, Any]]:
    run = invoke("plan", "--repo", str(repo), "--kubeconfig", str(kubeconfig), "-o", "json",
                 "--registry", "--registry-ca", str(secured.tls.ca), *extra)
    assert run.exit_code in (0, 2), run.output
    return run, orjson.loads(run.stdout)


def never_shown(*texts: str) -> None:
    basic = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    for text in texts:
        assert PASSWORD not in text and basic not in text


def held(the_plan: dict[str, Any]) -> set[tuple[str, str]]:
    return {(h["image"], h["reason"]) for h in the_plan["registry"]["held"]}


def test_the_groups_pull_secret_authenticates_the_check_and_never_shows(
        secured: Secured, live: tuple[EmbeddedCluster, Path], tmp_path: Path,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    cluster, kubeconfig = live
    docker_registry_secret(kubeconfig, f"https://{secured.registry.host}")
    good, typo = secured.ref("vision/detector:1"), secured.ref("vision/detectr:1")
    repo = fleet_repo(tmp_path / "fleet", good, typo)

    run, the_plan = plan_json(secured, repo, kubeconfig)
    assert held(the_plan) == {(typo, "not-in-registry")}  # only an authenticated check can say so
    assert the_plan["registry"]["notChecked"] == []
    images = {i for job in the_plan["create"] for i in job["spec"]["imagePrePullTemplate"]["images"]}
    assert images == {good}
    assert {job["spec"]["imagePrePullTemplate"]["imageSecrets"] for job in the_plan["create"]} == {SECRET}

    markdown = invoke("plan", "--repo", str(repo), "--kubeconfig", str(kubeconfig), "--registry",
                      "--registry-ca", str(secured.tls.ca))
    synced = invoke("sync", "--repo", str(repo), "--kubeconfig", str(kubeconfig), "--registry",
                    "--registry-ca", str(secured.tls.ca))
    assert synced.exit_code == 0, synced.output
    assert f"warning: registry: held {typo} (not-in-registry)" in synced.stderr
    jobs = cluster.store.list(JOB_GROUP, JOB_PLURAL, version=cluster.job_api_version)[0]
    assert {i for j in jobs for i in j["spec"]["imagePrePullTemplate"]["images"]} == {good}
    drift = invoke("drift", "--repo", str(repo), "--kubeconfig", str(kubeconfig), "-o", "json",
                   "--registry", "--registry-ca", str(secured.tls.ca))
    assert drift.exit_code == 2, drift.output
    pairs = orjson.loads(drift.stdout)["pairs"]
    assert {p["reason"] for p in pairs if p["image"] == typo} == {"not-in-registry"}
    never_shown(run.stdout, run.stderr, markdown.output, synced.output, drift.output, caplog.text,
                json.dumps(jobs))


def test_without_a_secret_the_check_is_denied_and_the_docker_config_is_the_fallback(
        secured: Secured, live: tuple[EmbeddedCluster, Path], tmp_path: Path,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    _, kubeconfig = live
    typo = secured.ref("vision/detectr:1")
    repo = fleet_repo(tmp_path / "fleet", secured.ref("vision/detector:1"), typo, secret=None)
    _, denied = plan_json(secured, repo, kubeconfig)
    assert held(denied) == set()  # 401 is "unknown", never "missing": planned as today
    assert typo in denied["registry"]["notChecked"]

    auth = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"auths": {secured.registry.host: {"auth": auth}}}))
    run, fallback = plan_json(secured, repo, kubeconfig, "--docker-config", str(config))
    assert held(fallback) == {(typo, "not-in-registry")}
    never_shown(run.stdout, run.stderr, caplog.text)


def test_a_secret_in_the_shape_kubeedge_reads_authenticates_too(
        secured: Secured, live: tuple[EmbeddedCluster, Path], tmp_path: Path) -> None:
    _, kubeconfig = live
    # KubeEdge's edge decodes .dockerconfigjson as one CRI AuthConfig (docs/kubeedge.md §4.5).
    file = tmp_path / "auth-config.json"
    file.write_text(json.dumps({"username": USER, "password": PASSWORD}))
    kubectl(kubeconfig, "create", "namespace", "vision")
    kubectl(kubeconfig, "create", "secret", "generic", "pull-cred", "-n", "vision",
            "--type=kubernetes.io/dockerconfigjson", f"--from-file=.dockerconfigjson={file}")
    typo = secured.ref("vision/detectr:1")
    run, the_plan = plan_json(secured, fleet_repo(tmp_path / "fleet", secured.ref("vision/detector:1"), typo),
                              kubeconfig)
    assert held(the_plan) == {(typo, "not-in-registry")}
    never_shown(run.stdout, run.stderr)


def test_a_wrong_password_in_the_secret_is_unknown_and_a_secret_of_another_type_is_skipped(
        secured: Secured, live: tuple[EmbeddedCluster, Path], tmp_path: Path,
        caplog: pytest.LogCaptureFixture) -> None:
    _, kubeconfig = live
    docker_registry_secret(kubeconfig, secured.registry.host, password="not-" + PASSWORD)
    kubectl(kubeconfig, "create", "secret", "generic", "opaque-cred", "-n", "vision",
            f"--from-literal=password={PASSWORD}")
    typo = secured.ref("vision/detectr:1")
    _, wrong = plan_json(secured, fleet_repo(tmp_path / "a", typo), kubeconfig)
    assert held(wrong) == set() and wrong["registry"]["notChecked"] == [typo]
    caplog.clear()
    opaque_repo = fleet_repo(tmp_path / "b", typo, secret="vision/opaque-cred")
    run, opaque = plan_json(secured, opaque_repo, kubeconfig)
    assert opaque["registry"]["notChecked"] == [typo]
    assert ("pull secret vision/opaque-cred is not a readable kubernetes.io/dockerconfigjson secret"
            in caplog.text)
    never_shown(run.stdout, run.stderr, caplog.text)
