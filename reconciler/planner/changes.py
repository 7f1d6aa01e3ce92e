"""What a fleet change does (`plan --base`): per group, images and nodes added and removed, and
the (node, image) pairs that become newly desired and are not reported present."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from reconciler.desired import desired_state
from reconciler.manifests.fleet import Fleet, NodeGroupSpec
from reconciler.manifests.imageref import match_name
from reconciler.observed.nodes import NodeFacts


@dataclass(frozen=True, slots=True)
class GroupChange:
    """The change of one group between base and head (all tuples sorted)."""

    group: str
    status: str  # "added", "removed" or "changed"
    images_added: tuple[str, ...]
    images_removed: tuple[str, ...]
    nodes_added: tuple[str, ...]
    nodes_removed: tuple[str, ...]
    pairs_becoming_missing: int  # newly desired pairs owned by this group, not reported present

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.group, "status": self.status,
                "imagesAdded": list(self.images_added), "imagesRemoved": list(self.images_removed),
                "nodesAdded": list(self.nodes_added), "nodesRemoved": list(self.nodes_removed),
                "pairsBecomingMissing": self.pairs_becoming_missing}


@dataclass(frozen=True, slots=True)
class FleetChanges:
    """Per-group changes, only groups that changed, sorted by name; `base` is the base
    revision (commit sha), or None when unknown (e.g. a plain directory)."""

    groups: tuple[GroupChange, ...]
    base: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"base": self.base, "groups": [g.to_dict() for g in self.groups]}


def diff_fleets(
    base: Fleet, head: Fleet, nodes: Iterable[NodeFacts], *, base_revision: str | None = None
) -> FleetChanges:
    """Compare two resolved fleets over the same nodes. Pure; `nodes` supply labels (selection)
    and reported images (a newly desired pair the node already reports is not missing);
    `base_revision` is carried into the result as `base`."""
    node_list = list(nodes)
    before, after = desired_state(base, node_list), desired_state(head, node_list)
    reported = {n.name: n.images for n in node_list}
    becoming: dict[str, int] = defaultdict(int)
    for name, desire in after.nodes.items():
        old = before.nodes.get(name)
        fresh = desire.image_set - old.image_set if old else desire.image_set
        held = reported.get(name, frozenset())
        for image in fresh - held:
            if match_name(image) in held:
                continue  # pinned by tag and digest: the node lists the digest
            becoming[desire.images[image].group] += 1
    base_groups = {g.name: g for g in base.groups}
    head_groups = {g.name: g for g in head.groups}
    changes: list[GroupChange] = []
    for name in sorted(base_groups.keys() | head_groups.keys()):
        old_images = {i.image for i in base_groups[name].images} if name in base_groups else set()
        new_images = {i.image for i in head_groups[name].images} if name in head_groups else set()
        old_nodes = frozenset(before.group_nodes.get(name, ()))
        new_nodes = frozenset(after.group_nodes.get(name, ()))
        status = ("added" if name not in base_groups else "removed" if name not in head_groups
                  else "changed")
        change = GroupChange(
            group=name, status=status,
            images_added=tuple(sorted(new_images - old_images)),
            images_removed=tuple(sorted(old_images - new_images)),
            nodes_added=tuple(sorted(new_nodes - old_nodes)),
            nodes_removed=tuple(sorted(old_nodes - new_nodes)),
            pairs_becoming_missing=becoming.get(name, 0),
        )
        unchanged = _comparable(base_groups.get(name)) == _comparable(head_groups.get(name))
        if not unchanged or change.nodes_added or change.nodes_removed:
            changes.append(change)
    return FleetChanges(tuple(changes), base=base_revision)


def _comparable(group: NodeGroupSpec | None) -> NodeGroupSpec | None:
    """The group without where it was written: moving it in its file changes nothing."""
    return replace(group, source=None) if group is not None else None
