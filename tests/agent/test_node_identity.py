"""Node identity (docs/agent.md, RBAC): the agent acts as system:node:<node>; the embedded API
server lets a node identity write only its own EdgeNodeInventory, and the writer refuses an
identity of another node before it sends anything."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from reconciler.agent.connect import connect
from reconciler.agent.writer import GROUP, PLURAL, VERSION, InventoryWriter, NodeIdentityError, node_identity
from reconciler.kube.errors import ApiRejected
from reconciler.kube.session import Session
from reconciler.sim.cluster import EmbeddedCluster
from tests.agent.test_writer import report

T0 = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
WHERE: dict[str, Any] = dict(group=GROUP, version=VERSION, plural=PLURAL)


@pytest.fixture
def as_node(cluster: tuple[EmbeddedCluster, Session], tmp_path: Path) -> Iterator[tuple[str, str, Session]]:
    """Nodes A and B, and a session that impersonates A (as cloudcore does for A's edgecore)."""
    embedded, _ = cluster
    node_a, node_b = embedded.edge_names()[:2]
    session = connect(tmp_path / "kubeconfig", None, as_node=node_a)
    try:
        yield node_a, node_b, session
    finally:
        session.close()


def test_a_node_writes_its_own_inventory(as_node: tuple[str, str, Session],
                                         cluster: tuple[EmbeddedCluster, Session]) -> None:
    node_a, _, session = as_node
    writer = InventoryWriter(session, node_a, rng=random.Random(1), identity=node_identity(node_a))
    assert writer.offer(report(T0), T0) == "first"  # create, then patch of status.agent
    embedded, _ = cluster
    assert embedded.store.get(GROUP, PLURAL, node_a)["status"]["agent"]["complete"] is True


def test_the_api_server_refuses_a_write_to_another_nodes_inventory(
        as_node: tuple[str, str, Session], cluster: tuple[EmbeddedCluster, Session]) -> None:
    node_a, node_b, session = as_node
    embedded, admin = cluster
    InventoryWriter(admin, node_b).write(report(T0))  # B's inventory exists (written as admin)
    before = embedded.store.get(GROUP, PLURAL, node_b)
    # A writer built for B but holding A's identity, without the local check: the server refuses.
    stray = InventoryWriter(session, node_b)
    for attempt in (lambda: stray.write(report(T0, drop_first=True)),
                    lambda: session.call("list", session.custom.list_cluster_custom_object, **WHERE)):
        with pytest.raises(ApiRejected) as refused:
            attempt()
        assert refused.value.code == 403
        assert f'User "system:node:{node_a}"' in str(refused.value)
    assert embedded.store.get(GROUP, PLURAL, node_b) == before


def test_creating_another_nodes_inventory_is_refused(as_node: tuple[str, str, Session],
                                                      cluster: tuple[EmbeddedCluster, Session]) -> None:
    _, node_b, session = as_node
    with pytest.raises(ApiRejected) as refused:
        InventoryWriter(session, node_b).write(report(T0))
    assert refused.value.code == 403
    embedded, _ = cluster
    assert embedded.store.list(GROUP, PLURAL)[0] == []


def test_the_writer_refuses_another_nodes_identity_before_sending(as_node: tuple[str, str, Session]) -> None:
    node_a, node_b, session = as_node
    sent = session.requests
    with pytest.raises(NodeIdentityError, match=f"refusing to write the inventory of node {node_b} "
                                                f"as system:node:{node_a}"):
        InventoryWriter(session, node_b, identity=node_identity(node_a))
    assert session.requests == sent
    # A service account or user identity is left to RBAC.
    InventoryWriter(session, node_b, identity="system:serviceaccount:edgefleet:agent")
