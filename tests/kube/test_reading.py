"""Discovery of the KubeEdge dialect and paged listing straight into typed facts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.kube.crds import install_crds, read_crds
from reconciler.kube.discovery import DiscoveryError, job_api_version
from reconciler.kube.listing import list_all
from reconciler.kube.reading import observe
from reconciler.kube.session import Session
from reconciler.observed import decode_jobs
from reconciler.sim.apiserver.server import ApiServer
from reconciler.sim.apiserver.store import Store
from reconciler.sim.served import new_store
from tests.kube.conftest import FakeTime, add_nodes, open_session


@pytest.fixture
def dialect_session(kubeedge: str, tmp_path: Path, fake_time: FakeTime) -> Iterator[tuple[Store, Session]]:
    store = new_store(kubeedge, seed=3)
    with ApiServer(store) as server:
        session = open_session(server.write_kubeconfig(tmp_path / "kc"), fake_time, page_size=4)
        yield store, session
        session.close()


@pytest.mark.parametrize(("release", "expected"), [
    pytest.param("1.21", "operations.kubeedge.io/v1alpha2", id="kubeedge-1.21-v1alpha2"),
    pytest.param("1.16", "operations.kubeedge.io/v1alpha1", id="kubeedge-1.16-v1alpha1"),
])
def test_discovery_picks_v1alpha2_where_served_else_v1alpha1(release: str, expected: str,
                                                            tmp_path: Path, fake_time: FakeTime) -> None:
    with ApiServer(new_store(release)) as server:
        session = open_session(server.write_kubeconfig(tmp_path / "kc"), fake_time)
        assert job_api_version(session) == expected


def test_a_cluster_without_kubeedge_is_refused_in_one_line(store: Store, session: Session) -> None:
    store.delete("apiextensions.k8s.io", "customresourcedefinitions",
                 "imageprepulljobs.operations.kubeedge.io")
    with pytest.raises(DiscoveryError, match=r"serves no operations\.kubeedge\.io ImagePrePullJob API"):
        job_api_version(session)


def test_paged_list_reads_every_node_once_page_by_page(
        dialect_session: tuple[Store, Session]) -> None:
    store, session = dialect_session
    names = add_nodes(store, 11)
    facts = observe(session)
    assert sorted(n.name for n in facts.nodes) == names
    assert all(n.ready and n.edge for n in facts.nodes)
    # 11 nodes in pages of 4: discovery + 3 node pages + 1 job page (no inventory CRD yet).
    assert session.requests == 1 + 3 + 1
    assert facts.inventory_served is False
    assert facts.inventories == []


def test_jobs_are_listed_in_the_clusters_dialect(dialect_session: tuple[Store, Session],
                                                 kubeedge: str) -> None:
    store, session = dialect_session
    version = "v1alpha2" if kubeedge == "1.21" else "v1alpha1"
    for i in range(6):
        store.create("operations.kubeedge.io", "imageprepulljobs", {
            "apiVersion": f"operations.kubeedge.io/{version}", "kind": "ImagePrePullJob",
            "metadata": {"name": f"job-{i}"},
            "spec": {"imagePrePullTemplate": {"images": ["docker.io/library/nginx:1.25"],
                                              "nodeNames": ["edge-000"], "timeoutSeconds": 60}},
        }, version=version)
    facts = observe(session)
    assert facts.job_api_version == f"operations.kubeedge.io/{version}"
    assert [j.name for j in facts.jobs] == [f"job-{i}" for i in range(6)]
    assert {j.api_version for j in facts.jobs} == {facts.job_api_version}


def test_inventories_are_listed_once_the_crd_is_installed(store: Store, session: Session) -> None:
    install_crds(session, read_crds())
    store.create("edgefleet.io", "edgenodeinventories", {
        "apiVersion": "edgefleet.io/v1alpha1", "kind": "EdgeNodeInventory",
        "metadata": {"name": "edge-000"}})
    facts = observe(session)
    assert facts.inventory_served is True
    assert [i.name for i in facts.inventories] == ["edge-000"]


def test_installing_crds_twice_replaces_without_error(session: Session) -> None:
    first = install_crds(session, read_crds())
    assert install_crds(session, read_crds()) == first == [
        "edgenodeinventories.edgefleet.io", "fleetrollouts.edgefleet.io"]


def test_list_all_decodes_each_page_with_the_given_decoder(store: Store, session: Session) -> None:
    pages: list[int] = []

    def counting_decode(body: bytes) -> list[object]:
        items = decode_jobs(body)
        pages.append(len(items))
        return list(items)

    for i in range(3):
        store.create("operations.kubeedge.io", "imageprepulljobs", {
            "apiVersion": "operations.kubeedge.io/v1alpha2", "kind": "ImagePrePullJob",
            "metadata": {"name": f"j{i}"}, "spec": {"imagePrePullTemplate": {}}}, version="v1alpha2")
    small = Session(session.api_client, type(session.settings)(page_size=2), clock=lambda: 0.0,
                    sleep=lambda s: None)
    items = list_all(small, "list jobs", counting_decode, small.custom.list_cluster_custom_object,
                     group="operations.kubeedge.io", version="v1alpha2", plural="imageprepulljobs")
    assert len(items) == 3
    assert pages == [2, 1]


def test_pull_secrets_are_checked_by_one_get_each_and_absent_ones_left_out(
        store: Store, session: Session) -> None:
    store.create("", "namespaces", {"metadata": {"name": "toll"}})
    store.create("", "secrets", {"metadata": {"name": "pull-cred", "namespace": "toll"},
                                 "type": "kubernetes.io/dockerconfigjson",
                                 "data": {".dockerconfigjson": "e30="}}, namespace="toll")
    sent = session.requests
    before = observe(session)
    assert before.secrets is None  # nothing asked: nothing checked, nothing judged missing
    plain = session.requests - sent
    sent = session.requests
    facts = observe(session, secret_refs=["toll/pull-cred", "vision/pull-cred", "toll/pull-cred",
                                          "not-a-ref"])
    # Present: only the one that exists. A 404 is an absent secret, not an error; the
    # malformed ref is never sent; the duplicate is asked once: two GETs in all.
    assert facts.secrets == frozenset({"toll/pull-cred"})
    assert session.requests - sent - plain == 2
