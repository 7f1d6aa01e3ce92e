"""The daemon's registry check authenticated with the group's pull secret (#12, `edgefleet run
--registry`): a real docker-registry behind TLS with htpasswd basic auth, the embedded cluster
holding the `kubernetes.io/dockerconfigjson` secret (created over the official client), a fleet
served by `git daemon`. The typo is held only because the check is authenticated; the password
is in no log record."""

from __future__ import annotations

import base64
import json
import logging
import os
from pathlib import Path

import pytest
from kubernetes import client as k8s

from reconciler.cli.demo_git import ServedFleetRepository
from reconciler.cli.registry_options import with_pull_secrets
from reconciler.controller.daemon import Controller, ControllerSettings
from reconciler.controller.queue import QueueTiming
from reconciler.cycle import SyncSettings
from reconciler.kube.crds import install_crds, read_crds
from reconciler.kube.session import Session
from reconciler.registry import RegistrySettings
from reconciler.registry.lookup import FleetRegistry
from reconciler.sim.cluster import EmbeddedCluster
from reconciler.sim.kubeedge.fleetgen import FleetOptions
from tests.controller.conftest import FAST_LEASE, wait_until
from tests.realparts.ocilayout import ImageSpec, push_layout, write_layout
from tests.realparts.registry import make_tls, registry_available, registry_or_skip, write_htpasswd

USER, PASSWORD = "daemon-robot", "Daemon-Pa55-never-logged"


def write_fleet(directory: Path, *images: str) -> Path:
    directory.mkdir(parents=True)
    (directory / "fleet.yaml").write_text(
        "apiVersion: edgefleet.io/v1alpha1\nkind: FleetConfig\nmetadata: {name: fleet}\nspec: {}\n")
    (directory / "cams.yaml").write_text(
        "apiVersion: edgefleet.io/v1alpha1\nkind: NodeGroupImages\nmetadata: {name: cams}\nspec:\n"
        "  nodes:\n    selector:\n      matchExpressions:\n"
        "        - {key: node-role.kubernetes.io/edge, operator: Exists}\n"
        "  imageSecret: vision/pull-cred\n"
        "  images:\n" + "".join(f"    - {image}\n" for image in images))
    return directory


def create_pull_secret(session: Session, host: str) -> None:
    auth = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    config = json.dumps({"auths": {host: {"auth": auth}}}).encode()
    session.core.create_namespace(k8s.V1Namespace(metadata=k8s.V1ObjectMeta(name="vision")))
    session.core.create_namespaced_secret("vision", k8s.V1Secret(
        metadata=k8s.V1ObjectMeta(name="pull-cred"), type="kubernetes.io/dockerconfigjson",
        data={".dockerconfigjson": base64.b64encode(config).decode()}))


def test_the_daemon_checks_with_the_groups_pull_secret(tmp_path: Path,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    if (reason := registry_available()) is not None:
        pytest.skip(reason)
    tls = make_tls(tmp_path / "tls")
    htpasswd = write_htpasswd(tmp_path / "htpasswd", USER, PASSWORD)
    write_layout(tmp_path / "oci", "1", [ImageSpec("amd64", payload=os.urandom(500)),
                                         ImageSpec("arm64", payload=os.urandom(600))])
    options = FleetOptions(nodes=6, seed=5, offline=0.0, flapping=0.0, silent=0.0, slow=0.0)
    caplog.set_level(logging.DEBUG)
    with registry_or_skip(tmp_path / "reg", tls=tls, htpasswd=htpasswd) as registry, \
            EmbeddedCluster(nodes=6, speed=60, seed=5, fleet=options) as cluster:
        push_layout(tmp_path / "oci", "1", f"{registry.host}/vision/cams:1", creds=f"{USER}:{PASSWORD}")
        good, typo = f"{registry.host}/vision/cams:1", f"{registry.host}/vision/cmas:1"
        session = Session.from_kubeconfig(cluster.write_kubeconfig(tmp_path / "kubeconfig"))
        install_crds(session, read_crds())
        create_pull_secret(session, registry.host)
        lookup = FleetRegistry(RegistrySettings(timeout_seconds=5, ca_file=str(tls.ca)))
        with_pull_secrets(lookup, session)  # what `run --registry` wires
        with ServedFleetRepository(tmp_path / "git", write_fleet(tmp_path / "fleet", good, typo)) as repo:
            settings = ControllerSettings(
                repo=repo.url, interval=3600.0, resync=3600.0, listen="127.0.0.1:0",
                leader=FAST_LEASE, queue=QueueTiming(debounce=0.2, max_delay=1.0),
                identity="registry-secret", cache_dir=tmp_path / "cache", sync=SyncSettings(registry=lookup))
            controller = Controller(settings, session, now=cluster.clock.now)
            controller.start()
            try:
                assert wait_until(lambda: controller.state.snapshot().last is not None, 30)
                jobs = cluster.store.list("operations.kubeedge.io", "imageprepulljobs",
                                          label_selector="app.kubernetes.io/managed-by=edgefleet")[0]
            finally:
                controller.stop()
                lookup.close()
                session.close()
    assert {i for job in jobs for i in job["spec"]["imagePrePullTemplate"]["images"]} == {good}
    messages = [r.getMessage() for r in caplog.records]
    assert any(f"registry: held {typo} (not-in-registry) on 6 node(s) of group cams" in m for m in messages)
    basic = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    assert not [m for m in messages if PASSWORD in m or basic in m]
    assert PASSWORD not in json.dumps(jobs)
