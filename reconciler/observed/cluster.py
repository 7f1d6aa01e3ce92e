"""The cluster as one plain value: every fact a plan is made from, and how to build it from
snapshots (`kubectl get ... -o json` outputs). Pure: bytes in, values out.

The Kubernetes adapter (kube/reading.py) builds the same value from a live API server, so
`plan --nodes snap.json` and `plan --kubeconfig` plan alike.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from reconciler.manifests.imageref import normalize_image
from reconciler.observed.inventories import InventoryFacts, decode_inventories
from reconciler.observed.jobs import JobFacts, decode_jobs
from reconciler.observed.nodes import NodeFacts, decode_nodes
from reconciler.observed.registry import ImageFacts
from reconciler.observed.rollouts import RolloutFacts, decode_rollouts

#: The ImagePrePullJob API group (both dialects), and the dialect assumed when nothing says.
JOB_GROUP = "operations.kubeedge.io"
DEFAULT_JOB_API_VERSION = f"{JOB_GROUP}/v1alpha2"


@dataclass(frozen=True, slots=True)
class ClusterFacts:
    """What a cluster reports, as typed facts.

    `job_api_version` is the ImagePrePullJob dialect to write; `inventory_served` says whether
    the EdgeNodeInventory CRD is installed (without it, evidence cannot be recorded).
    `secrets` are the `namespace/name` pull secrets found to exist among those the fleet's
    jobs would name (None: not checked, e.g. a plan from snapshots; then no secret is judged
    missing). `registry` holds the registry's answer per committed image reference
    (docs/registry.md; None: not asked, planning as without a registry check).
    `rollouts` are the FleetRollout objects by group (None: not read with the
    rest, e.g. a live plan reads them apart; docs/rollout.md).
    """

    nodes: Sequence[NodeFacts]
    jobs: Sequence[JobFacts]
    inventories: Sequence[InventoryFacts]
    job_api_version: str
    inventory_served: bool
    secrets: frozenset[str] | None = None
    registry: Mapping[str, ImageFacts] | None = None
    rollouts: Mapping[str, RolloutFacts] | None = None


def decode_normalized_nodes(body: bytes) -> list[NodeFacts]:
    """Nodes of a `kubectl get nodes -o json`-shaped body, image names normalized."""
    return decode_nodes(body, normalize=normalize_image)


def from_snapshots(nodes: bytes, jobs: bytes | None = None, inventories: bytes | None = None,
                   *, job_api_version: str | None = None,
                   rollouts: bytes | None = None) -> ClusterFacts:
    """Facts from `kubectl get ... -o json` outputs.

    The job dialect is `job_api_version` when given, else the apiVersion of the snapshot's jobs
    (the newest one seen), else v1alpha2. Raises ValueError (msgspec.DecodeError) when a
    snapshot is not the list it should be. `rollouts` is a FleetRollout list (None: not read).
    """
    job_facts = decode_jobs(jobs) if jobs else []
    if job_api_version is None:
        seen = sorted({j.api_version for j in job_facts if j.api_version.startswith(JOB_GROUP + "/")})
        job_api_version = seen[-1] if seen else DEFAULT_JOB_API_VERSION
    return ClusterFacts(
        nodes=decode_normalized_nodes(nodes),
        jobs=job_facts,
        inventories=decode_inventories(inventories) if inventories else [],
        job_api_version=job_api_version,
        inventory_served=inventories is not None,
        rollouts=decode_rollouts(rollouts) if rollouts is not None else None,
    )
