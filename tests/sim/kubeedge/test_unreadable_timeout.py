"""A timeoutSeconds the Go types cannot hold (docs/kubeedge.md §2.2, inferred): absent in v1alpha1
(the controller dereferences a nil *uint32) or negative in either version (the informer
cannot decode it into uint32). Such a job is never processed: no status, no finalizer, and a
line in the cluster log. edgefleet always writes timeoutSeconds > 0."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.sim.kubeedge.prepull import Switches
from tests.sim.kubeedge.builders import JOBS, MakeCluster, job, status_of


def _job(name: str, node: str, version: str, timeout: int | None) -> dict[str, Any]:
    manifest = job(name, [node], version)
    template = manifest["spec"]["imagePrePullTemplate"]
    if timeout is None:
        del template["timeoutSeconds"]
    else:
        template["timeoutSeconds"] = timeout
    return manifest


@pytest.mark.parametrize(("kubeedge", "version", "timeout", "why"), [
    pytest.param("1.16", "v1alpha1", None, "timeoutSeconds is absent", id="v1alpha1-absent"),
    pytest.param("1.16", "v1alpha1", -5, "timeoutSeconds -5 cannot be decoded into uint32",
                 id="v1alpha1-negative"),
    pytest.param("1.21", "v1alpha2", -1, "timeoutSeconds -1 cannot be decoded into uint32",
                 id="v1alpha2-negative"),
])
def test_job_is_never_processed(make_cluster: MakeCluster, kubeedge: str, version: str,
                                timeout: int | None, why: str) -> None:
    cluster = make_cluster(kubeedge=kubeedge)
    node = cluster.edge_names()[0]
    cluster.store.create(*JOBS, _job("j", node, version, timeout))
    cluster.advance(600)
    assert status_of(cluster, "j") == {}
    assert not cluster.store.get(*JOBS, "j")["metadata"].get("finalizers")
    lines = [line for line in cluster.log if line.startswith("imageprepulljob j:")]
    assert len(lines) == 1
    assert why in lines[0] and "docs/kubeedge.md §2.2, inferred" in lines[0]


@pytest.mark.parametrize(("kubeedge", "version", "timeout", "done"), [
    # v1alpha2: nil means "no timeout checking", which is fine
    pytest.param("1.21", "v1alpha2", None, "Completed", id="v1alpha2-absent-runs"),
    # on 1.21 a job created at v1alpha1 is run by the v1alpha2 controllers
    pytest.param("1.21", "v1alpha1", None, "Completed", id="v1alpha1-on-1.21-runs"),
    pytest.param("1.16", "v1alpha1", 60, "Successful", id="v1alpha1-positive-runs"),
])
def test_readable_timeouts_run(make_cluster: MakeCluster, kubeedge: str, version: str,
                               timeout: int | None, done: str) -> None:
    cluster = make_cluster(kubeedge=kubeedge)
    cluster.store.create(*JOBS, _job("j", cluster.edge_names()[0], version, timeout))
    cluster.advance(600)
    status = status_of(cluster, "j")
    assert status.get("phase", status.get("state")) == done


@pytest.mark.parametrize(("kubeedge", "version", "timeout"), [
    pytest.param("1.16", "v1alpha1", None, id="v1alpha1-absent"),
    pytest.param("1.21", "v1alpha2", -1, id="v1alpha2-negative"),
])
def test_switch_off_processes_the_job(make_cluster: MakeCluster, kubeedge: str, version: str,
                                      timeout: int | None) -> None:
    cluster = make_cluster(kubeedge=kubeedge,
                           switches=Switches(nil_or_negative_timeout_breaks_job=False))
    cluster.store.create(*JOBS, _job("j", cluster.edge_names()[0], version, timeout))
    cluster.advance(600)
    assert status_of(cluster, "j") != {}
