"""The writer against the embedded cluster (official client, real HTTP, deploy/crds installed):
only status.agent changes, nothing is sent when nothing changed, a resync writes again."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import jsonschema
import orjson
import pytest

from reconciler.agent.report import AgentReport, build_report
from reconciler.agent.runtime import image_fs_from_response, images_from_response, runtime_from_response
from reconciler.agent.writer import GROUP, MERGE_PATCH, PLURAL, VERSION, InventoryWriter
from reconciler.kube.crds import read_crds
from reconciler.kube.errors import ApiRejected
from reconciler.kube.session import Session
from reconciler.sim.cluster import EmbeddedCluster
from tests.agent.conftest import recorded

T0 = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
WHERE: dict[str, Any] = dict(group=GROUP, version=VERSION, plural=PLURAL)
RECONCILER_STATUS = {
    "images": [{"image": "docker.io/library/eclipse-mosquitto:2.0.18", "source": "job/ef-line-1a2b",
                "observedAt": "2026-12-01T08:00:00Z"}],
    "failures": [{"image": "registry.example.com/e2e/line-agent:1.0.0", "attempts": 2,
                  "lastError": "pull failed", "lastAttempt": "2026-12-01T09:00:00Z",
                  "lastJob": "ef-line-3c4d", "retryAfter": "2026-12-01T09:20:00Z"}],
}


def report(at: datetime, *, drop_first: bool = False) -> AgentReport:
    answers = recorded("containerd-1.6.20")
    images = images_from_response(answers.list_images)
    return build_report(images[1:] if drop_first else images,
                        image_fs_from_response(answers.image_fs_info, lambda mountpoint: 2**40),
                        runtime_from_response(answers.version), at)


def read(session: Session, node: str) -> dict[str, Any]:
    body = session.call(f"get {node}", session.custom.get_cluster_custom_object, name=node, **WHERE)
    return dict(orjson.loads(body))


def stored(agent_report: AgentReport) -> dict[str, Any]:
    """What the server keeps of a merge patch: the null keys are absent."""
    return {k: v for k, v in agent_report.as_status().items() if v is not None}


def write_as_reconciler(session: Session, node: str) -> None:
    """Create the inventory and PUT its status the way reconciler/kube/applying.py does."""
    created = orjson.loads(session.call(
        "create", session.custom.create_cluster_custom_object, field_validation="Strict",
        body={"apiVersion": f"{GROUP}/{VERSION}", "kind": "EdgeNodeInventory", "metadata": {"name": node}},
        **WHERE))
    session.call("status", session.custom.replace_cluster_custom_object_status, name=node,
                 field_validation="Strict", **WHERE,
                 body={"apiVersion": f"{GROUP}/{VERSION}", "kind": "EdgeNodeInventory",
                       "metadata": {"name": node, "resourceVersion": created["metadata"]["resourceVersion"]},
                       "status": RECONCILER_STATUS})


def test_agent_writes_only_its_subtree_and_skips_unchanged_reports(
        cluster: tuple[EmbeddedCluster, Session]) -> None:
    embedded, session = cluster
    node = embedded.edge_names()[0]
    write_as_reconciler(session, node)
    writer = InventoryWriter(session, node, resync=1800, rng=random.Random(1))

    first = report(T0)
    sent = session.requests
    assert writer.offer(first, T0) == "first"
    assert session.requests == sent + 1  # one merge patch, nothing else
    status = read(session, node)["status"]
    assert status["images"] == RECONCILER_STATUS["images"]
    assert status["failures"] == RECONCILER_STATUS["failures"]
    assert status["agent"] == stored(first)

    # The same content a minute later (and at every poll until the resync): nothing is sent.
    sent = session.requests
    for minute in range(1, 27):
        assert writer.offer(report(T0 + timedelta(minutes=minute)), T0 + timedelta(minutes=minute)) is None
    assert session.requests == sent
    assert read(session, node)["status"]["agent"]["observedAt"] == "2026-12-02T12:00:00Z"

    # An image removed by edge GC: written at once, and the agent's list is replaced whole.
    changed = report(T0 + timedelta(minutes=27), drop_first=True)
    assert writer.offer(changed, T0 + timedelta(minutes=27)) == "changed"
    status = read(session, node)["status"]
    assert status["agent"] == stored(changed)
    assert all("test/img" not in i["image"] for i in status["agent"]["images"])
    assert status["images"] == RECONCILER_STATUS["images"]
    assert status["failures"] == RECONCILER_STATUS["failures"]


def test_an_unchanged_report_is_written_again_after_the_jittered_resync(
        cluster: tuple[EmbeddedCluster, Session]) -> None:
    embedded, session = cluster
    node = embedded.edge_names()[1]
    writer = InventoryWriter(session, node, resync=1800, rng=random.Random(7))
    assert writer.offer(report(T0), T0) == "first"
    assert writer.last is not None
    due = writer.last.refresh_at
    assert timedelta(seconds=1620) <= due - T0 <= timedelta(seconds=1980)  # 30 min +-10 %

    sent = session.requests
    just_before = due - timedelta(seconds=1)
    assert writer.offer(report(just_before), just_before) is None
    assert session.requests == sent
    assert writer.offer(report(due), due) == "resync"
    assert session.requests == sent + 1
    assert read(session, node)["status"]["agent"]["observedAt"] == due.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_an_absent_inventory_is_created_and_the_crd_schema_accepts_the_report(
        cluster: tuple[EmbeddedCluster, Session]) -> None:
    embedded, session = cluster
    node = embedded.edge_names()[2]
    writer = InventoryWriter(session, node)
    sent = session.requests
    assert writer.offer(report(T0), T0) == "first"
    assert session.requests == sent + 3  # patch (404), create, patch
    inventory = read(session, node)
    assert inventory["metadata"]["name"] == node
    assert inventory["status"] == {"agent": stored(report(T0))}


def test_the_schema_refuses_what_the_agent_must_not_write(cluster: tuple[EmbeddedCluster, Session]) -> None:
    # The embedded API server checks status writes against deploy/crds (types, required,
    # unknown fields with Strict): so the accepted writes above show the schema admits the report.
    embedded, session = cluster
    node = embedded.edge_names()[0]
    InventoryWriter(session, node).offer(report(T0), T0)
    for wrong in ({"images": [{"image": "x", "sizeBytes": "698"}]},  # a string for an integer
                  {"images": [{"sizeBytes": 1}]},  # no image
                  {"imagez": []}):  # unknown field
        bad = {"status": {"agent": dict(stored(report(T0)), **wrong)}}
        with pytest.raises(ApiRejected) as caught:
            session.call("patch", session.custom.patch_cluster_custom_object_status, name=node, body=bad,
                         _content_type=MERGE_PATCH, field_validation="Strict", **WHERE)
        assert caught.value.code in (400, 422), wrong


def test_the_report_satisfies_the_whole_crd_schema() -> None:
    # Everything the embedded server does not check (minimum, maxLength, formats) by jsonschema.
    crd = next(c for c in read_crds() if c["spec"]["names"]["plural"] == PLURAL)
    schema = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["status"]
    for agent_report in (report(T0), report(T0, drop_first=True)):
        jsonschema.validate({"agent": stored(agent_report)}, schema,
                            format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"agent": dict(stored(report(T0)), images=[{"image": "x", "sizeBytes": -1}])},
                            schema)


def test_a_restarted_agent_adopts_the_stored_report_instead_of_rewriting_it(
        cluster: tuple[EmbeddedCluster, Session]) -> None:
    embedded, session = cluster
    node = embedded.edge_names()[0]
    InventoryWriter(session, node).offer(report(T0), T0)

    restarted = InventoryWriter(session, node, resync=1800)
    later = T0 + timedelta(minutes=10)
    restarted.adopt_stored(later)
    sent = session.requests
    assert restarted.offer(report(later), later) is None
    assert session.requests == sent
    assert restarted.offer(report(T0 + timedelta(minutes=31)), T0 + timedelta(minutes=31)) == "resync"
