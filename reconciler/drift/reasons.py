"""The one vocabulary of why a committed (node, image) pair is not present yet."""

from __future__ import annotations

from enum import StrEnum
from typing import Final


class Reason(StrEnum):
    """Why a desired pair is not present. The values are the report's and the metrics' words."""

    IN_FLIGHT = "in-flight"
    DEFERRED_OFFLINE = "deferred-offline"
    DEFERRED_DISK = "deferred-disk"
    BACKING_OFF = "backing-off"
    FAILED = "failed"
    UNKNOWN_INVENTORY = "unknown-inventory"
    SUSPENDED_GROUP = "suspended-group"
    WAITING_WINDOW = "waiting-window"
    WAITING_WAVE = "waiting-wave"
    WAITING_BANDWIDTH = "waiting-bandwidth"
    HALTED = "halted"
    PAUSED = "paused"
    NOT_YET_PLANNED = "not-yet-planned"
    # Registry holds (planner/registry_rules.py), per (node, image): drift/registry_holds.py.
    NOT_IN_REGISTRY = "not-in-registry"
    NO_PLATFORM = "no-platform"


#: One line per reason, for reports and docs/drift.md.
REASON_TEXT: Final[dict[Reason, str]] = {
    Reason.IN_FLIGHT: "a live job covers the pair and has not finished on the node",
    Reason.DEFERRED_OFFLINE: "the node is not Ready, so no job targets it",
    Reason.DEFERRED_DISK: "the node reported too little free disk for the image",
    Reason.BACKING_OFF: "a pull failed; the next attempt waits for its backoff",
    Reason.FAILED: "the attempt limit is reached; waits for a manifest change or a reset",
    Reason.UNKNOWN_INVENTORY: "the node's image list may be cut at its cap: presence is unknown",
    Reason.SUSPENDED_GROUP: "the group is suspended: nothing new is planned for it",
    Reason.WAITING_WINDOW: "waiting for the group's maintenance window",
    Reason.WAITING_WAVE: "waiting for an earlier rollout wave",
    Reason.WAITING_BANDWIDTH: "waiting for a pull slot of its site (bandwidth limit)",
    Reason.PAUSED: "the rollout is paused (`edgefleet rollout resume` continues it)",
    Reason.NOT_YET_PLANNED: "missing, and planned by the next sync",
    Reason.NOT_IN_REGISTRY: "the registry does not have the image",
    Reason.NO_PLATFORM: "the image has no variant for the node's platform",
    Reason.HALTED: "the rollout is halted by its failure budget",
}
