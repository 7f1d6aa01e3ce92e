"""Write the agent's report to the node's EdgeNodeInventory, as `status.agent` only.

A JSON merge patch on the status subresource whose body holds `status.agent` and nothing else:
the reconciler's `status.images` and `status.failures` are not in the patch, so the agent never
races them (a merge patch merges maps and leaves absent keys alone; the agent's own lists are
replaced whole). The object is created when absent (the reconciler may create it at the same
moment: 409 AlreadyExists just means "patch it now").

The writer acts for one node only. When the identity it writes as is a node identity
(`system:node:<name>`: the agent impersonates its node, or cloudcore does when it forwards from
edgecore's MetaServer), that node must be the writer's: an agent configured for node A but holding
node B's identity is refused before any request (NodeIdentityError), and every request names the
writer's own node, never another (the API server's RBAC rule in docs/agent.md refuses the rest).

When to write is decided by `write_due` (pure): when the content hash differs from the last one
written, or when the resync time (`resync` seconds after the last write, jittered +-10 % so that
a fleet restarted together spreads out) has passed, so that `observedAt` shows a live agent.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson

from reconciler.agent.report import AgentReport
from reconciler.kube.errors import ApiRejected, KubeError
from reconciler.kube.session import Session

log = logging.getLogger("edgefleet.agent")

GROUP, VERSION, PLURAL = "edgefleet.io", "v1alpha1", "edgenodeinventories"
KIND = "EdgeNodeInventory"
MERGE_PATCH = "application/merge-patch+json"
#: Default refresh of an unchanged report (seconds) and its jitter (fraction of it, either way).
DEFAULT_RESYNC = 1800.0
RESYNC_JITTER = 0.1


NODE_USER_PREFIX = "system:node:"
NODES_GROUP = "system:nodes"


class NodeIdentityError(KubeError):
    """The identity the agent writes as belongs to another node than the one it reports on."""


def node_identity(node: str) -> str:
    """The Kubernetes user name of node `node`, as the kubelet and cloudcore use it."""
    return NODE_USER_PREFIX + node


def check_identity(node: str, identity: str | None) -> None:
    """Raise NodeIdentityError when `identity` is another node's (`system:node:<other>`).

    Identities that are not node identities (a service account, a user) are left to RBAC."""
    if identity and identity.startswith(NODE_USER_PREFIX) and identity != node_identity(node):
        raise NodeIdentityError(
            f"refusing to write the inventory of node {node} as {identity}: an agent writes only "
            f"its own node's EdgeNodeInventory (check --node-name and the agent's credentials)")


@dataclass(frozen=True, slots=True)
class Written:
    """What the writer last wrote: its content hash and when the next refresh is due."""

    content_hash: str
    refresh_at: datetime


def write_due(last: Written | None, report_hash: str, now: datetime) -> str | None:
    """Why the report must be written now ("first", "changed", "resync"), or None (skip)."""
    if last is None:
        return "first"
    if last.content_hash != report_hash:
        return "changed"
    if now >= last.refresh_at:
        return "resync"
    return None


class InventoryWriter:
    """Writes one node's `status.agent`; remembers the last write to skip unchanged ones."""

    def __init__(self, session: Session, node: str, *, resync: float = DEFAULT_RESYNC,
                 rng: random.Random | None = None, identity: str | None = None) -> None:
        """`identity`: the user the session acts as, when known (e.g. `system:node:<node>`).
        Raises NodeIdentityError when it is another node's."""
        check_identity(node, identity)
        self.session = session
        self.node = node
        self.identity = identity
        self.resync = resync
        self.last: Written | None = None
        self._rng = rng or random.Random()
        self._where: dict[str, Any] = dict(group=GROUP, version=VERSION, plural=PLURAL)

    def offer(self, report: AgentReport, now: datetime) -> str | None:
        """Write `report` if `write_due` says so; returns the reason written, or None.

        Raises KubeError (see Session.call), e.g. ApiRejected 403 when RBAC refuses the write.
        """
        reason = write_due(self.last, report.content_hash, now)
        if reason is None:
            return None
        self.write(report)
        spread = 1.0 + self._rng.uniform(-RESYNC_JITTER, RESYNC_JITTER)
        self.last = Written(report.content_hash, now + timedelta(seconds=self.resync * spread))
        return reason

    def adopt_stored(self, now: datetime) -> None:
        """Start from what the object holds (one GET): an agent restarted with nothing new to
        say does not write again until the stored report is due for its refresh."""
        try:
            body = orjson.loads(self.session.call(
                f"get {PLURAL}/{self.node}", self.session.custom.get_cluster_custom_object,
                name=self.node, **self._where))
        except ApiRejected as error:
            if error.code == 404:
                return
            raise
        agent = (body.get("status") or {}).get("agent") or {}
        stored_hash, observed = agent.get("contentHash"), agent.get("observedAt")
        if not isinstance(stored_hash, str) or not isinstance(observed, str):
            return
        try:
            observed_at = datetime.fromisoformat(observed.replace("Z", "+00:00"))
        except ValueError:
            return
        refresh = observed_at + timedelta(seconds=self.resync)
        self.last = Written(stored_hash, min(refresh, now + timedelta(seconds=self.resync)))

    def write(self, report: AgentReport) -> None:
        """Merge-patch `status.agent`; create the object first when it does not exist."""
        try:
            self._patch(report)
        except ApiRejected as error:
            if error.code != 404:
                raise
            self._create()
            self._patch(report)

    def _patch(self, report: AgentReport) -> None:
        body = {"status": {"agent": report.as_status()}}
        self.session.call(f"patch {PLURAL}/{self.node}/status",
                          self.session.custom.patch_cluster_custom_object_status,
                          name=self.node, body=body, _content_type=MERGE_PATCH,
                          field_validation="Strict", **self._where)

    def _create(self) -> None:
        shell = {"apiVersion": f"{GROUP}/{VERSION}", "kind": KIND, "metadata": {"name": self.node}}
        try:
            self.session.call(f"create {PLURAL}/{self.node}",
                              self.session.custom.create_cluster_custom_object,
                              body=shell, field_validation="Strict", **self._where)
        except ApiRejected as error:
            if error.code != 409:
                raise
            log.info("inventory %s was created meanwhile (by the reconciler): patching it", self.node)
        else:
            log.info("created inventory %s", self.node)
