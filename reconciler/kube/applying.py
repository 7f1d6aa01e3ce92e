"""Carry out a Plan against the API server: the only place edgefleet writes to a cluster.

Order: inventory records first (evidence is safe before anything that carried it goes), then
deletes (a stuck job goes before its replacement arrives), then creates. Every write is
idempotent, so a crash between two writes is repaired by the next cycle, which re-reads the
cluster: a created job is seen by its label and name (AlreadyExists is success), a deleted one
is gone (NotFound is success). Nothing is kept in memory between cycles.

Inventory records go out concurrently, at most `ClientSettings.write_concurrency` at a time
(each through the session's shared QPS bucket, retries and fence): at fleet size they are
most of a cycle's writes, one per node, and serially each waits a full round trip. One that
still fails after its retries (5xx, 429) is left for the next cycle and the others proceed;
the deletes then wait, as after a conflict, since the failed record may be the evidence a
delete depends on. Nothing else starts before every inventory write has ended.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import orjson

from reconciler.inventory.records import InventoryUpdate
from reconciler.kube.discovery import JOB_GROUP, JOB_PLURAL
from reconciler.kube.errors import ApiBusy, ApiRejected, ApiUnavailable, KubeError
from reconciler.kube.reading import INVENTORY_GROUP, INVENTORY_PLURAL, INVENTORY_VERSION
from reconciler.kube.session import Session, WriteFence
from reconciler.planner.model import JobDeletion, Plan, PlannedJob

log = logging.getLogger("edgefleet.apply")

#: Progress callback: (what is being done, done so far, total).
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True, slots=True)
class ApplyReport:
    """What `apply_plan` did. With `dry_run`, what the server accepted to do (nothing persisted).

    `conflicts` lists nodes whose inventory changed under us, `unwritten` those whose
    inventory write still failed (5xx, 429) after its retries: both are written next cycle, and
    the deletes wait for it. `failure` is the error that stopped the apply early, or None.
    """

    dry_run: bool
    created: tuple[str, ...] = ()
    already_existed: tuple[str, ...] = ()
    deleted: tuple[str, ...] = ()
    already_gone: tuple[str, ...] = ()
    inventories: tuple[str, ...] = ()
    conflicts: tuple[str, ...] = ()
    failure: KubeError | None = None
    unwritten: tuple[str, ...] = ()

    @property
    def writes(self) -> int:
        """Objects changed (or, in a dry run, that would have been)."""
        return len(self.created) + len(self.deleted) + len(self.inventories)


class _Tally:
    def __init__(self, total: int, progress: Progress | None) -> None:
        self.total, self.done, self.progress = total, 0, progress
        self.lists: dict[str, list[str]] = {k: [] for k in (
            "created", "already_existed", "deleted", "already_gone", "inventories", "conflicts",
            "unwritten")}
        self._lock = threading.Lock()  # inventory writes report from several threads

    def add(self, kind: str, name: str, step: str) -> None:
        with self._lock:
            self.lists[kind].append(name)
            self.done += 1
            done = self.done
        if self.progress is not None:
            self.progress(step, done, self.total)


def apply_plan(session: Session, plan: Plan, *, job_api_version: str, dry_run: bool = False,
               progress: Progress | None = None, fence: WriteFence | None = None) -> ApplyReport:
    """Write `plan` in order: inventory statuses, job deletes, job creates (fieldValidation=Strict).

    Inventory statuses are written concurrently (see the module docstring); one that fails
    after its retries is listed in `unwritten` and the rest go on. Any other error that is not
    "already done" (a refusal, a closed fence) stops the apply and is reported in `failure`
    with what was done before it. When an inventory write conflicted or failed, the deletes are
    skipped this cycle: a deleted job may carry evidence (a stuck job's silent nodes) that only
    that write recorded; the next cycle re-reads the inventory and plans them again. With
    `dry_run`, every request carries dryRun=All: the server validates and admits it but
    persists nothing. Every request passes `fence` (see Session.call).
    """
    tally = _Tally(len(plan.inventory_updates) + len(plan.create) + len(plan.delete), progress)
    options: dict[str, Any] = {"dry_run": "All"} if dry_run else {}
    if fence is not None:
        options["fence"] = fence
    mark = " (dry run)" if dry_run else ""
    version = job_api_version.rpartition("/")[2]
    failure: KubeError | None = None
    try:
        _write_inventories(session, plan.inventory_updates, options, tally)
        deletes = plan.delete
        waiting = tally.lists["conflicts"] + tally.lists["unwritten"]
        if waiting and deletes:
            log.info("inventory of %s not written this cycle: %d deletes wait for the next cycle",
                     ", ".join(waiting[:3]), len(deletes))
            tally.total -= len(deletes)
            deletes = ()
        for deletion in deletes:
            _delete_job(session, deletion, version, options, mark, tally)
        for job in plan.create:
            _create_job(session, job, version, options, mark, tally)
    except KubeError as error:
        failure = error
        log.error("apply stopped%s: %s", mark, error)
    lists = {k: tuple(v) for k, v in tally.lists.items()}
    return ApplyReport(dry_run=dry_run, failure=failure, **lists)


def _create_job(session: Session, job: PlannedJob, version: str, options: dict[str, Any],
                mark: str, tally: _Tally) -> None:
    try:
        session.call(f"create {JOB_PLURAL}/{job.name}", session.custom.create_cluster_custom_object,
                     group=JOB_GROUP, version=version, plural=JOB_PLURAL, body=job.manifest(),
                     field_validation="Strict", **options)
    except ApiRejected as error:
        if error.code != 409:
            raise
        # Same name = same content (the name hashes it): an earlier run already created it.
        log.info("job %s already exists (created by an earlier run)", job.name)
        tally.add("already_existed", job.name, f"job {job.name} already exists")
        return
    retry = f", retry after {_count(job.attempt, 'failed attempt')}" if job.attempt else ""
    log.info("create ImagePrePullJob %s%s: group %s, %s on %s%s", job.name, mark, job.group,
             _count(len(job.images), "image"), _count(len(job.node_names), "node"), retry)
    tally.add("created", job.name, f"created {job.name}")


def _delete_job(session: Session, deletion: JobDeletion, version: str, options: dict[str, Any],
                mark: str, tally: _Tally) -> None:
    try:
        session.call(f"delete {JOB_PLURAL}/{deletion.name}",
                     session.custom.delete_cluster_custom_object, group=JOB_GROUP,
                     version=version, plural=JOB_PLURAL, name=deletion.name, **options)
    except ApiRejected as error:
        if error.code != 404:
            raise
        tally.add("already_gone", deletion.name, f"job {deletion.name} already gone")
        return
    log.info("delete ImagePrePullJob %s%s: %s", deletion.name, mark, deletion.reason)
    tally.add("deleted", deletion.name, f"deleted {deletion.name}")


def _write_inventories(session: Session, updates: tuple[InventoryUpdate, ...],
                       options: dict[str, Any], tally: _Tally) -> None:
    """Write `updates` with at most `write_concurrency` in flight. A transient failure is
    tallied as unwritten; any other error stops new writes from starting, waits for those in
    flight, and is raised (the first one)."""
    stop = threading.Event()

    def write(update: InventoryUpdate) -> None:
        if stop.is_set():
            return  # another write failed for good (or the fence closed): send nothing more
        try:
            try:
                _write_inventory(session, update, options, tally)
            except (ApiUnavailable, ApiBusy) as error:
                log.warning("inventory %s not written, the next cycle retries it: %s",
                            update.node, error)
                tally.add("unwritten", update.node, f"inventory {update.node} not written")
        except BaseException:  # a refusal, a closed fence (also raised by the progress hook)
            stop.set()
            raise

    workers = max(1, min(session.settings.write_concurrency, len(updates)))
    if workers == 1:
        for update in updates:
            write(update)
        return
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="inventory-write") as pool:
        futures = [pool.submit(write, update) for update in updates]
    errors = [e for e in (f.exception() for f in futures) if e is not None]
    if errors:
        raise errors[0]


def _write_inventory(session: Session, update: InventoryUpdate, options: dict[str, Any],
                     tally: _Tally) -> None:
    """Create the node's EdgeNodeInventory if absent, then replace its status (optimistic
    concurrency on resourceVersion: a concurrent writer wins and we re-plan next cycle)."""
    where: dict[str, Any] = dict(group=INVENTORY_GROUP, version=INVENTORY_VERSION, plural=INVENTORY_PLURAL)
    what = f"{INVENTORY_PLURAL}/{update.node}"
    resource_version = update.resource_version
    if not update.exists:
        shell = {k: v for k, v in update.manifest().items() if k != "status"}
        try:
            created = session.call(f"create {what}", session.custom.create_cluster_custom_object,
                                   body=shell, field_validation="Strict", **where, **options)
        except ApiRejected as error:
            if error.code != 409:
                raise
            tally.add("conflicts", update.node, f"inventory {update.node} appeared meanwhile")
            return
        if "dry_run" in options:
            tally.add("inventories", update.node, f"inventory {update.node}")
            return  # nothing was persisted, so there is no object whose status to write
        resource_version = str(orjson.loads(created)["metadata"]["resourceVersion"])
    # A merge patch of status.images and status.failures (lists are replaced whole), not a
    # replace of the whole status: status.agent belongs to the edge agent (docs/agent.md). The
    # resourceVersion in the body keeps the optimistic concurrency of a replace (409 when stale).
    body = {"metadata": {"resourceVersion": resource_version}, "status": update.status_dict()}
    try:
        session.call(f"patch {what}/status", session.custom.patch_cluster_custom_object_status,
                     name=update.node, body=body, _content_type="application/merge-patch+json",
                     field_validation="Strict", **where, **options)
    except ApiRejected as error:
        if error.code not in (404, 409):
            raise
        tally.add("conflicts", update.node, f"inventory {update.node} changed meanwhile")
        return
    tally.add("inventories", update.node, f"inventory {update.node}")


def _count(n: int, noun: str) -> str:
    """'1 image', '2 images': log lines a person reads."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
