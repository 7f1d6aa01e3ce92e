"""EdgeNodeInventory status: computed from the last observed status and new job evidence.

The status is the memory that outlives garbage-collected jobs (docs/design.md §3): confirmed pairs
(`images`) and failed attempts with backoff (`failures`). Entries edgefleet writes carry the
source `job/<name>`; entries of other sources (the future edge agent) are kept untouched.
Everything here is pure: `now` is a parameter, and the result is sorted, so an unchanged
status compares equal and `sync` writes only what changed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec

from reconciler.inventory.evidence import EPOCH, JobEvidence
from reconciler.manifests.imageref import match_name
from reconciler.observed.inventories import (
    InventoryFacts,
    InventoryFailure,
    InventoryImage,
    InventoryStatus,
)

API_VERSION = "edgefleet.io/v1alpha1"
KIND = "EdgeNodeInventory"
JOB_SOURCE_PREFIX = "job/"
#: Starts the lastError of a failure that was silence after dispatch (a timeout, or a job stuck
#: on the node, kubeedge#7049): such a node is a suspect and gets jobs of its own.
SILENT_PREFIX = "no answer after dispatch: "


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff of failed (node, image) pairs: base * 2^(attempts-1), capped;
    after `attempt_limit` attempts a pair is failed until the manifest or an operator resets it."""

    backoff_base: timedelta = timedelta(minutes=5)
    backoff_cap: timedelta = timedelta(hours=6)
    attempt_limit: int = 5

    def delay(self, attempts: int) -> timedelta:
        """Backoff after the `attempts`-th failed attempt (attempts >= 1)."""
        exponent = max(attempts - 1, 0)
        if exponent > 30:  # far beyond any cap; avoids a huge multiplication
            return self.backoff_cap
        return min(self.backoff_base * (1 << exponent), self.backoff_cap)


@dataclass(frozen=True, slots=True)
class InventoryUpdate:
    """A new status for one node's EdgeNodeInventory. `exists` tells whether the object must be
    created first; `resource_version` is the observed one (for optimistic concurrency)."""

    node: str
    status: InventoryStatus
    exists: bool
    resource_version: str = ""

    def status_dict(self) -> dict[str, Any]:
        """The reconciler's part of the status as a JSON-ready dict (camelCase keys): `images`
        and `failures`; `status.agent` is the edge agent's and never written from here."""
        result: dict[str, Any] = msgspec.to_builtins(self.status)
        result.pop("agent", None)
        return result

    def manifest(self) -> dict[str, Any]:
        """The complete EdgeNodeInventory object, status included."""
        metadata: dict[str, Any] = {"name": self.node}
        if self.resource_version:
            metadata["resourceVersion"] = self.resource_version
        return {"apiVersion": API_VERSION, "kind": KIND, "metadata": metadata,
                "status": self.status_dict()}


def format_time(moment: datetime) -> str:
    """RFC 3339 in UTC with second precision, as Kubernetes writes times."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str) -> datetime:
    """Inverse of format_time; the epoch for an empty or unreadable value."""
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return EPOCH
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def next_status(
    old: InventoryStatus | None,
    evidence: Iterable[JobEvidence],
    *,
    desired: frozenset[str],
    reported: frozenset[str],
    now: datetime,
    retry: RetryPolicy,
    pulled_with: Mapping[str, str] | None = None,
) -> InventoryStatus:
    """The status a node's EdgeNodeInventory should have now.

    Reads the observed status `old`, job `evidence` in (created, job) order, the images the node
    `desired` (with what each is pulled with, `pulled_with`: image -> fingerprint; None keeps the
    recorded ones), and those its node status `reported`. Confirmed pairs are added once (their
    first `observedAt` is kept). A job is read once per pair (only if newer than the record's
    (lastAttempt, lastJob)): a failure counts an attempt, a refusal only backs off, a pair the
    job never asked about only remembers the job. Backoff runs from the job's last report. A
    pair present by any source, or no longer desired, keeps its record as a marker with 0
    attempts (so old jobs are not counted again); so does a pair whose `pulled_with` changed.
    Entries of source `job/...` for images the node no longer desires are dropped. A failure
    from silence after dispatch has its lastError prefixed with SILENT_PREFIX.
    """
    old = old or InventoryStatus()
    images: dict[str, InventoryImage] = {
        i.image: i for i in old.images
        if i.image in desired or not i.source.startswith(JOB_SOURCE_PREFIX)
    }
    failures: dict[str, InventoryFailure] = {}
    for observed in old.failures:
        record = observed
        if record.image not in desired:
            record = _cleared(record)
        elif pulled_with is not None and record.pulled_with != pulled_with.get(record.image, ""):
            # The manifest changed what the pair is pulled with: its attempts start again.
            # (lastError stays: whether the node went silent is about the node, not the manifest.)
            record = msgspec.structs.replace(
                record, attempts=0, retry_after="", pulled_with=pulled_with.get(record.image, ""))
        if record.last_job or record.attempts:
            failures[record.image] = record
    stamp = format_time(now)
    for ev in evidence:
        for image in sorted(ev.pulled):
            if image in desired and image not in images:
                images[image] = InventoryImage(image, JOB_SOURCE_PREFIX + ev.job, stamp)
        ended = min(ev.ended or now, now)
        for image, reason in (*ev.failed.items(), *ev.refused.items()):
            known = failures.get(image)
            if image not in desired or not _newer(ev, known):
                continue
            counted = image in ev.failed
            attempts = (known.attempts if known else 0) + (1 if counted else 0)
            error = SILENT_PREFIX + reason if ev.silent and counted else reason
            failures[image] = InventoryFailure(
                image=image, attempts=attempts, last_error=error[:1024],
                last_attempt=format_time(ev.created), last_job=ev.job,
                retry_after=format_time(ended + retry.delay(max(attempts, 1))),
                pulled_with=_pulled_with(image, known, pulled_with),
            )
        for image in sorted(ev.covered):
            known = failures.get(image)
            if image not in desired or not _newer(ev, known):
                continue
            base = known or InventoryFailure(image, pulled_with=_pulled_with(image, None, pulled_with))
            failures[image] = msgspec.structs.replace(
                base, last_attempt=format_time(ev.created), last_job=ev.job)
    for image, record in failures.items():
        if image in images or image in reported or match_name(image) in reported:
            failures[image] = _cleared(record)
    return InventoryStatus(
        images=tuple(images[k] for k in sorted(images)),
        failures=tuple(failures[k] for k in sorted(failures)),
    )


def _newer(ev: JobEvidence, record: InventoryFailure | None) -> bool:
    return record is None or (ev.created, ev.job) > _counted(record)


def _pulled_with(
    image: str, record: InventoryFailure | None, current: Mapping[str, str] | None
) -> str:
    if current is not None:
        return current.get(image, "")
    return record.pulled_with if record is not None else ""


def _cleared(record: InventoryFailure) -> InventoryFailure:
    """The record as a marker: no attempts, no backoff, the newest job read kept."""
    if not record.attempts and not record.last_error and not record.retry_after:
        return record
    return InventoryFailure(record.image, last_attempt=record.last_attempt,
                            last_job=record.last_job, pulled_with=record.pulled_with)


def went_silent(status: InventoryStatus) -> bool:
    """True when the node's newest counted failure (by lastAttempt, lastJob) was silence after
    dispatch: the node took a job and never answered, so it could wedge a shared job again."""
    if not status.failures:
        return False
    newest = max(status.failures, key=_counted)
    return newest.last_error.startswith(SILENT_PREFIX)


def _counted(record: InventoryFailure) -> tuple[datetime, str]:
    """The newest job counted in `record`, as (creation time, name)."""
    return parse_time(record.last_attempt), record.last_job


def inventory_update(
    node: str, observed: InventoryFacts | None, new: InventoryStatus
) -> InventoryUpdate | None:
    """An update when `new` differs from the observed status (None when nothing changed or when
    there is neither an object nor anything to record)."""
    if observed is None:
        if not new.images and not new.failures:
            return None
        return InventoryUpdate(node=node, status=new, exists=False)
    if _normalized(observed.status) == new:
        return None
    return InventoryUpdate(node=node, status=new, exists=True,
                           resource_version=observed.resource_version)


def _normalized(status: InventoryStatus) -> InventoryStatus:
    return InventoryStatus(images=tuple(sorted(status.images, key=lambda i: i.image)),
                           failures=tuple(sorted(status.failures, key=lambda f: f.image)))


def evidence_recorded(
    job: str,
    created: datetime,
    evidence: Mapping[str, JobEvidence],
    observed: Mapping[str, InventoryFacts],
    desired: Mapping[str, frozenset[str]],
    reported: Mapping[str, frozenset[str]] | None = None,
) -> bool:
    """Whether everything job `job` proved is already in the observed inventory objects, so the
    job can be deleted without losing evidence. `evidence` is node -> this job's evidence;
    pairs a node no longer desires, or holds by any source (its inventory's images, or its node
    status `reported`), need no record."""
    for node, ev in evidence.items():
        wanted = desired.get(node, frozenset())
        inventory = observed.get(node)
        held = reported.get(node, frozenset()) if reported is not None else frozenset()
        recorded_images = {i.image for i in inventory.status.images} if inventory else set()
        records = {f.image: f for f in inventory.status.failures} if inventory else {}
        for image in (*ev.pulled, *ev.failed, *ev.refused, *ev.covered):
            if (image not in wanted or image in recorded_images or image in held
                    or match_name(image) in held):
                continue
            if image in ev.pulled:
                return False
            record = records.get(image)
            if record is None or _counted(record) < (created, job):
                return False
    return True
