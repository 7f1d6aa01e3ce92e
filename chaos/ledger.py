"""What happened to ImagePrePullJobs, as the embedded API server's store committed it: every
job added and deleted, judged as it happens (the store calls `JobLedger` under its lock).

- a *duplicate* is a managed job added while another live (not finished) managed job already
  covers one of its (node, image) pairs;
- a *wrongful deletion* is the deletion of an unmanaged job, or of a managed job that had not
  finished and was younger than its own timeout (nothing edgefleet may judge stuck yet);
- *evidence lost* is an image an EdgeNodeInventory recorded (as present, or as failed) that a
  later version of it no longer records;
- *writes* are what edgefleet changes: managed jobs added or deleted, inventories written.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

MANAGED = ("app.kubernetes.io/managed-by", "edgefleet")
#: Final job phases of both dialects (v1alpha2 Completed/Failure, v1alpha1 Successful/Failed).
FINISHED = frozenset({"Completed", "Failure", "Successful", "Failed"})


def _managed(job: dict[str, Any]) -> bool:
    return bool((job["metadata"].get("labels") or {}).get(MANAGED[0]) == MANAGED[1])


def _pairs(job: dict[str, Any]) -> set[tuple[str, str]]:
    template = (job.get("spec") or {}).get("imagePrePullTemplate") or {}
    return {(n, i) for n in template.get("nodeNames") or () for i in template.get("images") or ()}


def _finished(job: dict[str, Any]) -> bool:
    status = job.get("status") or {}
    return status.get("phase") in FINISHED or status.get("state") in FINISHED


@dataclass
class JobLedger:
    """Subscribe it to a Store (`store.subscribe(ledger)`); `now` is the cluster's clock."""

    now: Callable[[], datetime]
    live: dict[str, dict[str, Any]] = field(default_factory=dict)
    added: int = 0
    deleted: int = 0
    duplicates: list[str] = field(default_factory=list)
    wrongful: list[str] = field(default_factory=list)
    evidence_lost: list[str] = field(default_factory=list)
    writes: int = 0
    _evidence: dict[str, set[tuple[str, str]]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, kind: str, resource: Any, obj: dict[str, Any]) -> None:
        plural = getattr(resource, "plural", "")
        if plural == "edgenodeinventories":
            with self._lock:
                self._inventory(kind, obj)
            return
        if plural != "imageprepulljobs":
            return
        name = obj["metadata"]["name"]
        with self._lock:
            if kind == "ADDED":
                self.added += 1
                if _managed(obj):
                    self.writes += 1
                    self._check_duplicate(name, obj)
                self.live[name] = obj
            elif kind == "MODIFIED":
                self.live[name] = obj
            elif kind == "DELETED":
                self.deleted += 1
                self.writes += 1
                self._check_deletion(name, self.live.pop(name, obj))

    def _inventory(self, kind: str, obj: dict[str, Any]) -> None:
        name = obj["metadata"]["name"]
        if kind == "DELETED":
            self._evidence.pop(name, None)  # the node left: its record goes with it
            return
        self.writes += 1
        status = obj.get("status") or {}
        now = {("image", str(i.get("image"))) for i in status.get("images") or ()}
        now |= {("failure", str(f.get("image"))) for f in status.get("failures") or ()}
        for kind_, image in sorted(self._evidence.get(name, set()) - now):
            if (kind_ == "failure" and ("image", image) in now) or (
                    kind_ == "image" and ("failure", image) in now):
                continue  # a failed pair that got pulled (or a pulled one that failed again)
            self.evidence_lost.append(f"{name}: {kind_} {image} no longer recorded")
        self._evidence[name] = now

    def _check_duplicate(self, name: str, job: dict[str, Any]) -> None:
        mine = _pairs(job)
        for other_name, other in self.live.items():
            if _managed(other) and not _finished(other) and mine & _pairs(other):
                self.duplicates.append(f"{name} overlaps the live job {other_name}")
                return

    def _check_deletion(self, name: str, job: dict[str, Any]) -> None:
        if not _managed(job):
            self.wrongful.append(f"{name}: not edgefleet's")
            return
        if _finished(job):
            return
        created = datetime.fromisoformat(job["metadata"]["creationTimestamp"].replace("Z", "+00:00"))
        template = (job.get("spec") or {}).get("imagePrePullTemplate") or {}
        timeout = timedelta(seconds=int(template.get("timeoutSeconds") or 0))
        if timeout and self.now() < created + timeout:
            self.wrongful.append(f"{name}: deleted unfinished, {self.now() - created} after creation")

    def snapshot(self) -> tuple[int, int, int, int]:
        """(added, deleted, duplicates, wrongful deletions) so far."""
        with self._lock:
            return self.added, self.deleted, len(self.duplicates), len(self.wrongful)
