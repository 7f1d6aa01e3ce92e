"""What the cluster reports, decoded into plain frozen facts (pure: bytes in, values out)."""

from reconciler.observed.cluster import ClusterFacts, from_snapshots
from reconciler.observed.inventories import (
    InventoryFacts,
    InventoryFailure,
    InventoryImage,
    InventoryStatus,
    decode_inventories,
    inventory_from_object,
)
from reconciler.observed.jobs import JobFacts, decode_job, decode_jobs, job_from_object
from reconciler.observed.nodes import EDGE_ROLE_LABEL, ImageNormalizer, NodeFacts, decode_nodes

__all__ = [
    "EDGE_ROLE_LABEL",
    "ClusterFacts",
    "ImageNormalizer",
    "InventoryFacts",
    "InventoryFailure",
    "InventoryImage",
    "InventoryStatus",
    "JobFacts",
    "NodeFacts",
    "decode_inventories",
    "decode_job",
    "decode_jobs",
    "decode_nodes",
    "from_snapshots",
    "inventory_from_object",
    "job_from_object",
]
