"""Which resources the controller watches, and how it lists each of them."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from reconciler.controller.watching import (
    MANAGED_SELECTOR,
    ResourceWatch,
    WatchTarget,
    node_fingerprint,
    object_fingerprint,
)
from reconciler.kube.discovery import JOB_GROUP, JOB_PLURAL, job_api_version
from reconciler.kube.reading import INVENTORY_GROUP, INVENTORY_PLURAL, INVENTORY_VERSION
from reconciler.kube.session import Session


class _JobLister:
    """Lists/watches ImagePrePullJobs in the dialect the cluster serves, discovered on first use
    (so the daemon starts even while the API server is still coming up)."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._version: str | None = None
        self._lock = threading.Lock()

    def __call__(self, **params: Any) -> Any:
        with self._lock:
            if self._version is None:
                self._version = job_api_version(self._session).rpartition("/")[2]
        return self._session.custom.list_cluster_custom_object(
            group=JOB_GROUP, version=self._version, plural=JOB_PLURAL, **params)


def _inventories(session: Session) -> Callable[..., Any]:
    def call(**params: Any) -> Any:
        return session.custom.list_cluster_custom_object(
            group=INVENTORY_GROUP, version=INVENTORY_VERSION, plural=INVENTORY_PLURAL, **params)
    return call


def cluster_watches(session: Session, on_change: Callable[[str], None],
                    on_state: Callable[[str, str], None]) -> list[ResourceWatch]:
    """Watches of Nodes, edgefleet's ImagePrePullJobs and EdgeNodeInventory objects."""
    targets = [
        WatchTarget("nodes", session.core.list_node, node_fingerprint),
        WatchTarget(JOB_PLURAL, _JobLister(session), object_fingerprint, MANAGED_SELECTOR),
        WatchTarget(INVENTORY_PLURAL, _inventories(session), object_fingerprint),
    ]
    return [ResourceWatch(t, on_change, on_state=on_state) for t in targets]
