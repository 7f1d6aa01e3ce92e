"""What each node holds: node status, job evidence and EdgeNodeInventory records (pure)."""

from reconciler.inventory.evidence import (
    STUCK_REASON,
    JobEvidence,
    align_evidence,
    collect_evidence,
    infer_image_cap,
    job_created,
    list_truncated,
)
from reconciler.inventory.records import (
    API_VERSION,
    KIND,
    SILENT_PREFIX,
    InventoryUpdate,
    RetryPolicy,
    evidence_recorded,
    format_time,
    inventory_update,
    next_status,
    parse_time,
    went_silent,
)

__all__ = [
    "API_VERSION",
    "KIND",
    "SILENT_PREFIX",
    "STUCK_REASON",
    "InventoryUpdate",
    "JobEvidence",
    "RetryPolicy",
    "align_evidence",
    "collect_evidence",
    "evidence_recorded",
    "format_time",
    "infer_image_cap",
    "inventory_update",
    "job_created",
    "list_truncated",
    "next_status",
    "parse_time",
    "went_silent",
]
