"""FleetRollout objects (deploy/crds/fleetrollout.yaml) as facts: the rollout progress the
reconciler keeps per group, and the operator's pause switch. Pure: objects in, values out."""

from __future__ import annotations

from typing import Any

import msgspec


class RolloutSpecFacts(msgspec.Struct, frozen=True, rename="camel"):
    """What an operator sets: `paused` stops new pulls of the group (`edgefleet rollout pause`)."""

    group: str = ""
    paused: bool = False


class RolloutStatusFacts(msgspec.Struct, frozen=True, rename="camel"):
    """The progress edgefleet recorded last: which rollout (id of the group's desired images), the
    highest open wave, when it started, when the open wave was done (its pause runs from there),
    why it halted (empty: not halted) and how many failed nodes `rollout resume` accepted."""

    rollout_id: str = ""
    wave: int = 0
    started: str = ""
    wave_done_at: str = ""
    halted: str = ""
    accepted_failures: int = 0
    # What the status shows besides (kept to tell whether a new status differs):
    waves: int = 0
    wave_sizes: tuple[int, ...] = ()
    nodes_total: int = 0
    nodes_done: int = 0
    nodes_failed: int = 0
    failure_budget: str = ""
    budget_used: str = ""
    next_step: str = ""
    next_at: str = ""


class _Metadata(msgspec.Struct, frozen=True, rename="camel"):
    name: str = ""
    resource_version: str = ""


class RolloutFacts(msgspec.Struct, frozen=True, rename="camel"):
    """One FleetRollout object (cluster-scoped, named after its group)."""

    metadata: _Metadata = msgspec.field(default_factory=_Metadata)
    spec: RolloutSpecFacts = msgspec.field(default_factory=RolloutSpecFacts)
    status: RolloutStatusFacts = msgspec.field(default_factory=RolloutStatusFacts)

    @property
    def group(self) -> str:
        return self.spec.group or self.metadata.name

    @property
    def raw_status(self) -> dict[str, Any]:
        """The status as the API holds it (camelCase keys, JSON arrays as lists: to_builtins
        keeps tuples, and a tuple never equals the list a plan's status carries)."""
        as_dict: dict[str, Any] = msgspec.json.decode(msgspec.json.encode(self.status))
        return as_dict


class _RolloutList(msgspec.Struct, rename="camel"):
    items: list[RolloutFacts] | None = None


_LIST_DECODER = msgspec.json.Decoder(_RolloutList)


def decode_rollouts(data: bytes) -> dict[str, RolloutFacts]:
    """FleetRollout objects of a list body (kind List, FleetRolloutList or one API page), by
    group. Raises msgspec.DecodeError (a ValueError) for bytes that are not such a list."""
    return {r.group: r for r in _LIST_DECODER.decode(data).items or ()}


def rollout_from_object(obj: object) -> RolloutFacts:
    """Convert an already-parsed FleetRollout object. Raises msgspec.ValidationError."""
    return msgspec.convert(obj, RolloutFacts)
