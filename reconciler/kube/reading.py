"""Read a live cluster into `ClusterFacts` (observed/cluster.py): nodes, ImagePrePullJobs and
EdgeNodeInventory objects, listed in pages and decoded page by page into typed facts
(listing.py). Snapshots give the same value through `observed.from_snapshots`.
"""

from __future__ import annotations

from collections.abc import Iterable

from reconciler.kube.discovery import JOB_GROUP, JOB_PLURAL, choose_job_api_version, served_versions
from reconciler.kube.errors import ApiRejected
from reconciler.kube.listing import list_all
from reconciler.kube.session import Session
from reconciler.observed import ClusterFacts, InventoryFacts, decode_inventories, decode_jobs
from reconciler.observed.cluster import decode_normalized_nodes

INVENTORY_GROUP = "edgefleet.io"
INVENTORY_VERSION = "v1alpha1"
INVENTORY_PLURAL = "edgenodeinventories"
INVENTORY_API_VERSION = f"{INVENTORY_GROUP}/{INVENTORY_VERSION}"


def observe(session: Session, *, secret_refs: Iterable[str] = ()) -> ClusterFacts:
    """List nodes, ImagePrePullJobs (all of them: unmanaged jobs are evidence too) and
    EdgeNodeInventory objects, paged, and check which of `secret_refs` exist (see
    `existing_secrets`; with no refs, `secrets` is None: nothing was checked, so a caller that
    does not ask never has a secret judged missing). Raises KubeError (see Session.call,
    job_api_version)."""
    served = served_versions(session)
    api_version = choose_job_api_version(served)
    job_version = api_version.rpartition("/")[2]
    nodes = list_all(session, "list nodes", decode_normalized_nodes, session.core.list_node)
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
    refs = frozenset(secret_refs)
    return ClusterFacts(nodes, jobs, inventories, api_version, inventory_served,
                        secrets=existing_secrets(session, refs) if refs else None)


def existing_secrets(session: Session, refs: Iterable[str]) -> frozenset[str]:
    """The `namespace/name` refs of `refs` whose Secret exists: one GET each, the body dropped
    unread (edgefleet never looks at a secret's contents, nor logs them). A 404 is an absent
    secret; a malformed ref counts as absent (the job could not name it either). Raises
    KubeError for anything else (403 included: a secret edgefleet may not see is not known
    to exist)."""
    found: set[str] = set()
    for ref in sorted(set(refs)):
        namespace, _, name = ref.partition("/")
        if not namespace or not name or "/" in name:
            continue
        try:
            session.call(f"get secret {ref}", session.core.read_namespaced_secret, name=name,
                         namespace=namespace)
        except ApiRejected as error:
            if error.code == 404:
                continue
            raise
        found.add(ref)
    return frozenset(found)
