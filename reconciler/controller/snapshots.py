"""The daemon's published fleet snapshot: `edgefleet snapshot`, on a schedule, into one file
that `/snapshot` serves (controller/http.py), so CI downloads fresh cluster facts without
cluster credentials (docs/review.md).

The file is written by the same streamed writer as the command (kube/snapshot.py) and replaced
atomically, so a download never sees half a file and a failed reading keeps the last one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from reconciler.kube.errors import KubeError
from reconciler.kube.session import Session
from reconciler.kube.snapshot import write_snapshot

log = logging.getLogger("edgefleet.snapshot")

SNAPSHOT_FILE = "fleet-snapshot.json.gz"


class SnapshotPublisher:
    """Writes `<directory>/fleet-snapshot.json.gz` from the cluster on every `publish()`."""

    def __init__(self, session: Session, directory: Path, now: Callable[[], datetime]) -> None:
        self._session, self._now = session, now
        self.file = directory / SNAPSHOT_FILE

    def publish(self) -> bool:
        """Take a snapshot now; False (logged, the previous file kept) when that fails."""
        taken_at = self._now()
        try:
            self.file.parent.mkdir(parents=True, exist_ok=True)
            counts = write_snapshot(self._session, self.file, taken_at=taken_at)
        except (KubeError, OSError) as error:
            log.warning("snapshot: not published (%s); %s", error,
                        "the previous one stays" if self.file.exists() else "none yet")
            return False
        log.info("snapshot: %d nodes, %d jobs, %d inventories written to %s (taken at %s)",
                 counts.nodes, counts.jobs, counts.inventories, self.file, taken_at.isoformat())
        return True
