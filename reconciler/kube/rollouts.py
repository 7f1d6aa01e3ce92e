"""FleetRollout objects (deploy/crds/fleetrollout.yaml): read them into facts, write the status
each plan computes, and set the operator's switches (pause, resume). Thin adapter."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import orjson

from reconciler.kube.errors import ApiRejected
from reconciler.kube.listing import list_all
from reconciler.kube.session import Session, WriteFence
from reconciler.observed.rollouts import RolloutFacts, decode_rollouts, rollout_from_object
from reconciler.planner.rollout import RolloutStatus

log = logging.getLogger("edgefleet.rollout")

GROUP = "edgefleet.io"
VERSION = "v1alpha1"
PLURAL = "fleetrollouts"
KIND = "FleetRollout"
MERGE_PATCH = "application/merge-patch+json"
_WHERE: dict[str, Any] = {"group": GROUP, "version": VERSION, "plural": PLURAL}


def read_rollouts(session: Session) -> dict[str, RolloutFacts]:
    """Every FleetRollout by group; empty when the CRD is not installed (no rollout recorded)."""
    try:
        found = list_all(session, f"list {PLURAL}", lambda body: list(decode_rollouts(body).values()),
                         session.custom.list_cluster_custom_object, **_WHERE)
    except ApiRejected as error:
        if error.code != 404:
            raise
        return {}
    return {r.group: r for r in found}


def read_rollout(session: Session, group: str) -> RolloutFacts | None:
    """The FleetRollout of `group`, or None when it has none."""
    try:
        body = session.call(f"get {PLURAL}/{group}", session.custom.get_cluster_custom_object,
                            name=group, **_WHERE)
    except ApiRejected as error:
        if error.code != 404:
            raise
        return None
    return rollout_from_object(orjson.loads(body))


def _ensure(session: Session, group: str, options: dict[str, Any]) -> None:
    shell = {"apiVersion": f"{GROUP}/{VERSION}", "kind": KIND, "metadata": {"name": group},
             "spec": {"group": group}}
    try:
        session.call(f"create {PLURAL}/{group}", session.custom.create_cluster_custom_object,
                     body=shell, field_validation="Strict", **_WHERE, **options)
    except ApiRejected as error:
        if error.code != 409:
            raise


def patch_rollout(session: Session, group: str, *, status: dict[str, Any] | None = None,
                  spec: dict[str, Any] | None = None, dry_run: bool = False,
                  fence: WriteFence | None = None) -> None:
    """Merge-patch the group's FleetRollout status and/or spec, creating the object first when
    it does not exist. Raises KubeError."""
    options: dict[str, Any] = {"dry_run": "All"} if dry_run else {}
    if fence is not None:
        options["fence"] = fence
    _ensure(session, group, options)
    if dry_run:
        return
    if spec is not None:
        session.call(f"patch {PLURAL}/{group}", session.custom.patch_cluster_custom_object,
                     name=group, body={"spec": spec}, _content_type=MERGE_PATCH, **_WHERE, **options)
    if status is not None:
        session.call(f"patch {PLURAL}/{group}/status",
                     session.custom.patch_cluster_custom_object_status, name=group,
                     body={"status": status}, _content_type=MERGE_PATCH, **_WHERE, **options)


def write_rollouts(session: Session, rollouts: Sequence[RolloutStatus],
                   previous: dict[str, RolloutFacts], *, dry_run: bool,
                   fence: WriteFence | None = None) -> list[str]:
    """Write each plan's rollout status whose persisted progress changed or whose counts moved;
    returns the groups written. Raises KubeError."""
    written: list[str] = []
    for rollout in rollouts:
        status = rollout.to_status()
        before = previous.get(rollout.group)
        if before is not None and before.status.rollout_id != status["rolloutId"]:
            log.info("rollout of %s: new desired images, a new rollout %s starts at wave 0",
                     rollout.group, status["rolloutId"])
        if before is not None and status == before.raw_status:
            continue
        if rollout.halted and (before is None or not before.status.halted):
            log.warning("rollout of %s halted: %s", rollout.group, rollout.halted)
        patch_rollout(session, rollout.group, status=status, dry_run=dry_run, fence=fence)
        written.append(rollout.group)
    return written
