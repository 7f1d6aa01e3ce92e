"""Observe a cluster: the facts the planner reads, from a live API server or from snapshots.

Both ways give the same `ClusterFacts`, so `plan --nodes snap.json` and `plan --kubeconfig`
plan alike. Live lists are paged and decoded page by page into typed facts (listing.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from reconciler.kube.discovery import JOB_GROUP, JOB_PLURAL, choose_job_api_version, served_versions
from reconciler.kube.listing import list_all
from reconciler.kube.session import Session
from reconciler.manifests.imageref import normalize_image
from reconciler.observed import (
    InventoryFacts,
    JobFacts,
    NodeFacts,
    decode_inventories,
    decode_jobs,
    decode_nodes,
)

INVENTORY_GROUP = "edgefleet.io"
INVENTORY_VERSION = "v1alpha1"
INVENTORY_PLURAL = "edgenodeinventories"
INVENTORY_API_VERSION = f"{INVENTORY_GROUP}/{INVENTORY_VERSION}"
DEFAULT_JOB_API_VERSION = f"{JOB_GROUP}/v1alpha2"


@dataclass(frozen=True, slots=True)
class ClusterFacts:
    """What a cluster reports, as typed facts.

    `job_api_version` is the ImagePrePullJob dialect to write; `inventory_served` says whether
    the EdgeNodeInventory CRD is installed (without it, evidence cannot be recorded).
    """

    nodes: Sequence[NodeFacts]
    jobs: Sequence[JobFacts]
    inventories: Sequence[InventoryFacts]
    job_api_version: str
    inventory_served: bool


def _decode_nodes(body: bytes) -> list[NodeFacts]:
    return decode_nodes(body, normalize=normalize_image)


def observe(session: Session) -> ClusterFacts:
    """List nodes, ImagePrePullJobs (all of them: unmanaged jobs are evidence too) and
    EdgeNodeInventory objects, paged. Raises KubeError (see Session.call, job_api_version)."""
    served = served_versions(session)
    api_version = choose_job_api_version(served)
    job_version = api_version.rpartition("/")[2]
    nodes = list_all(session, "list nodes", _decode_nodes, session.core.list_node)
    jobs = list_all(session, f"list {JOB_PLURAL}", decode_jobs,
                    session.custom.list_cluster_custom_object,
                    group=JOB_GROUP, version=job_version, plural=JOB_PLURAL)
    inventory_served = INVENTORY_VERSION in served.get(INVENTORY_GROUP, ())
    inventories: list[InventoryFacts] = []
    if inventory_served:
        inventories = list_all(session, f"list {INVENTORY_PLURAL}", decode_inventories,
                               session.custom.list_cluster_custom_object,
                               group=INVENTORY_GROUP, version=INVENTORY_VERSION,
                               plural=INVENTORY_PLURAL)
    return ClusterFacts(nodes, jobs, inventories, api_version, inventory_served)


def from_snapshots(nodes: bytes, jobs: bytes | None = None, inventories: bytes | None = None,
                   *, job_api_version: str | None = None) -> ClusterFacts:
    """Facts from `kubectl get ... -o json` outputs (pure).

    The job dialect is `job_api_version` when given, else the apiVersion of the snapshot's jobs
    (the newest one seen), else v1alpha2. Raises ValueError (msgspec.DecodeError) when a
    snapshot is not the list it should be.
    """
    job_facts = decode_jobs(jobs) if jobs else []
    if job_api_version is None:
        seen = sorted({j.api_version for j in job_facts if j.api_version.startswith(JOB_GROUP + "/")})
        job_api_version = seen[-1] if seen else DEFAULT_JOB_API_VERSION
    return ClusterFacts(
        nodes=_decode_nodes(nodes),
        jobs=job_facts,
        inventories=decode_inventories(inventories) if inventories else [],
        job_api_version=job_api_version,
        inventory_served=inventories is not None,
    )
