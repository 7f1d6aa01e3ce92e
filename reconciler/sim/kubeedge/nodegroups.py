"""The KubeEdge NodeGroup controller's membership rules (docs/kubeedge.md §6.1), as a pure function.

A group selects the union of `spec.nodes` and the nodes matching `spec.matchLabels` (a nil or
empty map selects nothing) and labels each member `apps.kubeedge.io/belonging-to=<group>`. A
node belongs to one group only: a node already labelled for another group is `Failed`
("node X has already belonged to NodeGroup Y"); unknown names are `Failed` ("node does not
exist"). Nodes that leave a group, or whose group is being deleted, lose the label.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from reconciler.sim.apiserver.errors import Obj

BELONGING_LABEL = "apps.kubeedge.io/belonging-to"
FINALIZER = "apps.kubeedge.io/nodegroup-controller"


@dataclass(frozen=True, slots=True)
class MemberNode:
    """What the controller needs from a Node."""

    labels: Mapping[str, str]
    ready: str  # "Ready", "NotReady" or "Unknown"


def member_node(node: Mapping[str, Any]) -> MemberNode:
    """Read a Node object."""
    ready = "Unknown"
    for cond in (node.get("status") or {}).get("conditions") or []:
        if cond.get("type") == "Ready":
            ready = {"True": "Ready", "False": "NotReady"}.get(cond.get("status"), "Unknown")
    return MemberNode(dict((node.get("metadata") or {}).get("labels") or {}), ready)


@dataclass(frozen=True, slots=True)
class MembershipPlan:
    """Label changes (node -> group name, or None to remove the label) and the
    `status.nodeStatuses` each live group should have."""

    labels: dict[str, str | None]
    statuses: dict[str, list[Obj]]


def _selected(group: Obj, nodes: Mapping[str, MemberNode]) -> list[str]:
    spec = group.get("spec") or {}
    chosen = [n for n in spec.get("nodes") or [] if isinstance(n, str)]
    match = spec.get("matchLabels") or {}
    if match:
        chosen.extend(name for name, node in nodes.items()
                      if all(node.labels.get(k) == v for k, v in match.items()))
    return sorted(set(chosen))


def plan_membership(groups: Sequence[Obj], nodes: Mapping[str, MemberNode]) -> MembershipPlan:
    """Who belongs where. Groups are visited by name; a node keeps the group it is already
    labelled for while that group still selects it, otherwise the first group by name wins."""
    live = sorted((g for g in groups if not g["metadata"].get("deletionTimestamp")),
                  key=lambda g: g["metadata"]["name"])
    known = {g["metadata"]["name"] for g in groups}
    selected = {g["metadata"]["name"]: _selected(g, nodes) for g in live}

    # A label naming no NodeGroup at all was set by someone else: it is respected.
    claimed: dict[str, str] = {}
    for name, node in nodes.items():
        current = node.labels.get(BELONGING_LABEL)
        if current is not None and current not in known:
            claimed[name] = current
    for group, members in selected.items():
        for name in members:
            member = nodes.get(name)
            if member is not None and member.labels.get(BELONGING_LABEL) == group:
                claimed[name] = group

    statuses: dict[str, list[Obj]] = {}
    for group, members in selected.items():
        entries: list[Obj] = []
        for name in members:
            found = nodes.get(name)
            entry: Obj = {"nodeName": name}
            if found is None:
                entry.update(readyStatus="Unknown", selectionStatus="Failed",
                             selectionStatusReason="node does not exist")
            else:
                entry["readyStatus"] = found.ready
                owner = claimed.setdefault(name, group)
                if owner == group:
                    entry["selectionStatus"] = "Succeeded"
                else:
                    entry.update(selectionStatus="Failed", selectionStatusReason=(
                        f"node {name} has already belonged to NodeGroup {owner}"))
            entries.append(entry)
        statuses[group] = entries

    labels: dict[str, str | None] = {}
    for name, node in nodes.items():
        current = node.labels.get(BELONGING_LABEL)
        want = claimed.get(name)
        if want is not None and want != current:
            labels[name] = want
        elif want is None and current is not None and current in known:
            labels[name] = None
    return MembershipPlan(labels, statuses)
