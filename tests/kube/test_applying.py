"""Applying a Plan: Strict creates, AlreadyExists as done, deletes with reasons, inventory
records (created when absent), server-side dry run, and stopping cleanly on errors."""

from __future__ import annotations

import logging

import pytest

from reconciler.inventory.records import InventoryUpdate
from reconciler.kube.applying import apply_plan
from reconciler.kube.crds import install_crds, read_crds
from reconciler.kube.errors import ApiBusy, ApiRejected
from reconciler.kube.session import Session
from reconciler.manifests.fleet import JobPolicy
from reconciler.observed.inventories import InventoryImage, InventoryStatus
from reconciler.planner import Counts, JobDeletion, Plan, PlannedJob
from reconciler.sim.apiserver.faults import Faults
from reconciler.sim.apiserver.store import Store

V2 = "operations.kubeedge.io/v1alpha2"
JOBS = ("operations.kubeedge.io", "imageprepulljobs")
INVENTORIES = ("edgefleet.io", "edgenodeinventories")
NGINX = "docker.io/library/nginx:1.25"


def planned(name: str, nodes: tuple[str, ...] = ("edge-000", "edge-001")) -> PlannedJob:
    return PlannedJob(name=name, group="line", api_version=V2, images=(NGINX,), node_names=nodes,
                      secret=None, policy=JobPolicy(), revision="abc123", attempt=0)


def a_plan(create: tuple[PlannedJob, ...] = (), delete: tuple[JobDeletion, ...] = (),
           inventory: tuple[InventoryUpdate, ...] = ()) -> Plan:
    return Plan(revision="abc123", job_api_version=V2, create=create, delete=delete, deferred=(),
                inventory_updates=inventory, groups=(), summary=Counts(), group_total=1)


def names(store: Store) -> list[str]:
    items, _, _ = store.list(*JOBS, version="v1alpha2")
    return sorted(i["metadata"]["name"] for i in items)


def test_creates_jobs_exactly_as_planned_with_labels(session: Session, store: Store) -> None:
    report = apply_plan(session, a_plan(create=(planned("ef-line-a"), planned("ef-line-b"))),
                        job_api_version=V2)
    assert report.created == ("ef-line-a", "ef-line-b")
    assert report.failure is None
    stored = store.get(*JOBS, "ef-line-a", version="v1alpha2")
    assert stored["spec"] == planned("ef-line-a").manifest()["spec"]
    assert stored["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "edgefleet"


def test_a_job_that_already_exists_counts_as_done(session: Session, store: Store) -> None:
    apply_plan(session, a_plan(create=(planned("ef-line-a"),)), job_api_version=V2)
    again = apply_plan(session, a_plan(create=(planned("ef-line-a"), planned("ef-line-b"))),
                       job_api_version=V2)
    assert again.already_existed == ("ef-line-a",)
    assert again.created == ("ef-line-b",)
    assert again.failure is None
    assert names(store) == ["ef-line-a", "ef-line-b"]


def test_strict_create_rejects_a_field_the_crd_does_not_know(session: Session, store: Store) -> None:
    # Remove `checkItems` from the served schema: without fieldValidation=Strict the server
    # would prune it silently and the job would run without the checks it was planned with.
    crd = store.get("apiextensions.k8s.io", "customresourcedefinitions",
                    "imageprepulljobs.operations.kubeedge.io")
    for version in crd["spec"]["versions"]:
        template = version["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"][
            "imagePrePullTemplate"]
        del template["properties"]["checkItems"]
    store.update("apiextensions.k8s.io", "customresourcedefinitions", crd)
    report = apply_plan(session, a_plan(create=(planned("ef-line-a"),)), job_api_version=V2)
    assert isinstance(report.failure, ApiRejected)
    assert report.failure.code in (400, 422)
    assert "checkItems" in str(report.failure)
    assert report.created == ()
    assert names(store) == []


def test_deletes_log_their_reason_and_tolerate_a_job_already_gone(
        session: Session, store: Store, caplog: pytest.LogCaptureFixture) -> None:
    apply_plan(session, a_plan(create=(planned("ef-line-a"),)), job_api_version=V2)
    deletions = (JobDeletion("ef-line-a", "finished, evidence recorded, TTL passed", "line"),
                 JobDeletion("ef-line-gone", "no longer desired on any of its nodes", "line"))
    with caplog.at_level(logging.INFO, logger="edgefleet"):
        report = apply_plan(session, a_plan(delete=deletions), job_api_version=V2)
    assert report.deleted == ("ef-line-a",)
    assert report.already_gone == ("ef-line-gone",)
    assert "delete ImagePrePullJob ef-line-a: finished, evidence recorded, TTL passed" in caplog.text
    assert names(store) == []


def inventory_update(node: str, *images: str, exists: bool = False, rv: str = "") -> InventoryUpdate:
    status = InventoryStatus(images=tuple(
        InventoryImage(image=i, source="job/ef-line-a", observed_at="2025-07-01T08:00:00Z") for i in images))
    return InventoryUpdate(node=node, status=status, exists=exists, resource_version=rv)


def test_inventory_is_created_when_absent_then_its_status_written(session: Session, store: Store) -> None:
    install_crds(session, read_crds())
    report = apply_plan(session, a_plan(inventory=(inventory_update("edge-000", NGINX),)),
                        job_api_version=V2)
    assert report.inventories == ("edge-000",)
    stored = store.get(*INVENTORIES, "edge-000")
    assert [i["image"] for i in stored["status"]["images"]] == [NGINX]
    # An update of an existing object carries its resourceVersion (optimistic concurrency).
    newer = inventory_update("edge-000", NGINX, "docker.io/library/redis:7", exists=True,
                             rv=stored["metadata"]["resourceVersion"])
    report = apply_plan(session, a_plan(inventory=(newer,)), job_api_version=V2)
    assert report.inventories == ("edge-000",)
    assert len(store.get(*INVENTORIES, "edge-000")["status"]["images"]) == 2


def test_recording_evidence_leaves_the_edge_agents_report_alone(session: Session, store: Store) -> None:
    # status.agent is the edge agent's (docs/agent.md): a status write of the reconciler that
    # replaced the whole status would erase it, and the planner would lose the node's inventory.
    install_crds(session, read_crds())
    apply_plan(session, a_plan(inventory=(inventory_update("edge-000", NGINX),)), job_api_version=V2)
    report = {"images": [{"image": NGINX, "sizeBytes": 7}], "complete": True,
              "observedAt": "2025-07-01T09:00:00Z", "contentHash": "sha256:ab"}
    store.mutate(*INVENTORIES, "edge-000", lambda obj: obj["status"].update(agent=report),
                 subresource="status")
    stored = store.get(*INVENTORIES, "edge-000")
    newer = inventory_update("edge-000", NGINX, "docker.io/library/redis:7", exists=True,
                             rv=stored["metadata"]["resourceVersion"])
    assert apply_plan(session, a_plan(inventory=(newer,)), job_api_version=V2).inventories == ("edge-000",)
    status = store.get(*INVENTORIES, "edge-000")["status"]
    assert status["agent"] == report
    assert [i["image"] for i in status["images"]] == [NGINX, "docker.io/library/redis:7"]


def test_a_stale_inventory_write_is_a_conflict_left_for_the_next_cycle(session: Session,
                                                                       store: Store) -> None:
    install_crds(session, read_crds())
    apply_plan(session, a_plan(inventory=(inventory_update("edge-000", NGINX),)), job_api_version=V2)
    stale = inventory_update("edge-000", "docker.io/library/redis:7", exists=True, rv="1")
    report = apply_plan(session, a_plan(inventory=(stale,)), job_api_version=V2)
    assert report.conflicts == ("edge-000",)
    assert report.failure is None
    assert [i["image"] for i in store.get(*INVENTORIES, "edge-000")["status"]["images"]] == [NGINX]


def test_dry_run_validates_on_the_server_and_persists_nothing(session: Session, store: Store,
                                                               faults: Faults) -> None:
    install_crds(session, read_crds())
    apply_plan(session, a_plan(create=(planned("ef-line-old"),)), job_api_version=V2)
    before = store.list(*INVENTORIES)[1]
    plan = a_plan(create=(planned("ef-line-new"),),
                  delete=(JobDeletion("ef-line-old", "obsolete", "line"),),
                  inventory=(inventory_update("edge-000", NGINX),))
    report = apply_plan(session, plan, job_api_version=V2, dry_run=True)
    assert (report.created, report.deleted, report.inventories) == (
        ("ef-line-new",), ("ef-line-old",), ("edge-000",))
    assert report.dry_run is True
    assert names(store) == ["ef-line-old"]
    assert store.list(*INVENTORIES)[0] == []
    assert store.list(*INVENTORIES)[1] == before


def test_a_busy_server_stops_the_apply_and_reports_what_was_done(session: Session, store: Store,
                                                                 faults: Faults) -> None:
    apply_plan(session, a_plan(create=(planned("ef-line-a"),)), job_api_version=V2)
    faults.throttle_rate, faults.retry_after, faults.verbs = 1.0, 2, frozenset({"create"})
    report = apply_plan(session, a_plan(create=(planned("ef-line-b"), planned("ef-line-c"))),
                        job_api_version=V2)
    assert isinstance(report.failure, ApiBusy)
    assert report.failure.retry_after == 2.0
    assert report.created == ()
    assert names(store) == ["ef-line-a"]
