"""The daemon with registry facts (#12, `edgefleet run --registry`): a real docker-registry, the
embedded cluster and a fleet served by `git daemon`. A typo in a tag gets no job and a log line
that names it; the image that exists is sent."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from reconciler.cli.demo_git import ServedFleetRepository
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
from tests.realparts.ocilayout import ImageSpec, write_layout
from tests.realparts.registry import registry_available, registry_or_skip


def write_fleet(directory: Path, host: str, *images: str) -> Path:
    directory.mkdir(parents=True)
    (directory / "fleet.yaml").write_text(
        "apiVersion: edgefleet.io/v1alpha1\nkind: FleetConfig\nmetadata: {name: fleet}\n"
        f"spec:\n  registries: {{insecure: [\"{host}\"]}}\n")
    (directory / "cams.yaml").write_text(
        "apiVersion: edgefleet.io/v1alpha1\nkind: NodeGroupImages\nmetadata: {name: cams}\nspec:\n"
        "  nodes:\n    selector:\n      matchExpressions:\n"
        "        - {key: node-role.kubernetes.io/edge, operator: Exists}\n"
        "  images:\n" + "".join(f"    - {image}\n" for image in images))
    return directory


def test_the_daemon_holds_a_typo_and_logs_why(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    if (reason := registry_available()) is not None:
        pytest.skip(reason)
    built = write_layout(tmp_path / "oci", "1", [ImageSpec("amd64", payload=os.urandom(500)),
                                                 ImageSpec("arm64", payload=os.urandom(600))])
    options = FleetOptions(nodes=8, seed=5, offline=0.0, flapping=0.0, silent=0.0, slow=0.0)
    with registry_or_skip(tmp_path / "reg") as registry, \
            EmbeddedCluster(nodes=8, speed=60, seed=5, fleet=options) as cluster:
        registry.push(built, "test/cams:1")
        good, typo = f"{registry.host}/test/cams:1", f"{registry.host}/test/cmas:1"
        kubeconfig = cluster.write_kubeconfig(tmp_path / "kubeconfig")
        session = Session.from_kubeconfig(kubeconfig)
        install_crds(session, read_crds())
        lookup = FleetRegistry(RegistrySettings(timeout_seconds=5))
        source = write_fleet(tmp_path / "fleet", registry.host, good, typo)
        with ServedFleetRepository(tmp_path / "git", source) as repo:
            settings = ControllerSettings(
                repo=repo.url, interval=3600.0, resync=3600.0, listen="127.0.0.1:0",
                leader=FAST_LEASE, queue=QueueTiming(debounce=0.2, max_delay=1.0),
                identity="registry-a", cache_dir=tmp_path / "cache", sync=SyncSettings(registry=lookup))
            controller = Controller(settings, session, now=cluster.clock.now)
            caplog.set_level(logging.WARNING, logger="edgefleet")
            controller.start()
            try:
                assert wait_until(lambda: controller.state.snapshot().last is not None, 30)
                jobs = cluster.store.list("operations.kubeedge.io", "imageprepulljobs",
                                          label_selector="app.kubernetes.io/managed-by=edgefleet")[0]
            finally:
                controller.stop()
                lookup.close()
                session.close()
    images = {image for job in jobs for image in job["spec"]["imagePrePullTemplate"]["images"]}
    assert images == {good}
    assert any(f"registry: held {typo} (not-in-registry) on 8 node(s) of group cams" in r.getMessage()
               for r in caplog.records), [r.getMessage() for r in caplog.records]
