"""Which resources the controller watches, and how it lists each of them."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from reconciler.controller.caches import FactCache, WatchCaches
from reconciler.controller.watching import (
    MANAGED_SELECTOR,
    ResourceWatch,
    WatchTarget,
    node_fingerprint,
    object_fingerprint,
)
from reconciler.kube.discovery import JOB_GROUP, JOB_PLURAL, job_api_version
from reconciler.kube.reading import INVENTORY_GROUP, INVENTORY_PLURAL, INVENTORY_VERSION
from reconciler.kube.rollouts import GROUP as ROLLOUT_GROUP
from reconciler.kube.rollouts import PLURAL as ROLLOUT_PLURAL
from reconciler.kube.rollouts import VERSION as ROLLOUT_VERSION
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


def _custom(session: Session, group: str, version: str, plural: str) -> Callable[..., Any]:
    def call(**params: Any) -> Any:
        return session.custom.list_cluster_custom_object(
            group=group, version=version, plural=plural, **params)
    return call


def cluster_watches(session: Session, on_change: Callable[[str], None],
                    on_state: Callable[[str, str], None],
                    caches: WatchCaches | None = None) -> list[ResourceWatch]:
    """Watches of Nodes, edgefleet's ImagePrePullJobs and EdgeNodeInventory objects.

    With `caches`, each watch also fills its cache, the job watch takes every ImagePrePullJob
    (unmanaged ones are evidence a plan reads) and a fourth watch follows FleetRollouts.
    """
    inventories = _custom(session, INVENTORY_GROUP, INVENTORY_VERSION, INVENTORY_PLURAL)
    if caches is None:
        targets = [
            WatchTarget("nodes", session.core.list_node, node_fingerprint),
            WatchTarget(JOB_PLURAL, _JobLister(session), object_fingerprint, MANAGED_SELECTOR),
            WatchTarget(INVENTORY_PLURAL, inventories, object_fingerprint),
        ]
        return [ResourceWatch(t, on_change, on_state=on_state) for t in targets]
    cached: list[tuple[WatchTarget, FactCache[Any]]] = [
        (WatchTarget("nodes", session.core.list_node, node_fingerprint), caches.nodes),
        (WatchTarget(JOB_PLURAL, _JobLister(session), object_fingerprint), caches.jobs),
        (WatchTarget(INVENTORY_PLURAL, inventories, object_fingerprint), caches.inventories),
        (WatchTarget(ROLLOUT_PLURAL, _custom(session, ROLLOUT_GROUP, ROLLOUT_VERSION, ROLLOUT_PLURAL),
                     object_fingerprint), caches.rollouts),
    ]
    return [ResourceWatch(t, on_change, on_state=on_state, cache=c) for t, c in cached]
