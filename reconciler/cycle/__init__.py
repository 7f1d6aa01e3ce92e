"""One reconcile cycle, end to end: revision -> manifests -> cluster -> plan -> apply -> record
(sync.py), and the small vocabulary of its outcomes (outcome.py)."""

from reconciler.cycle.outcome import CycleResult, GoodRevision, Outcome, exit_code, wake_after
from reconciler.cycle.sync import Cluster, SyncSettings, sync_once, utc_now

__all__ = [
    "Cluster",
    "CycleResult",
    "GoodRevision",
    "Outcome",
    "SyncSettings",
    "exit_code",
    "sync_once",
    "utc_now",
    "wake_after",
]
