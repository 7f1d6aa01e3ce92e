"""Warn where two groups may select one node and want one image with different settings.

docs/design.md §2: on a node that both groups select, the group whose name sorts first wins
the (node, image) pair, so the other group's secret or policy is not used for it. Without a
cluster we cannot know the nodes, so we warn unless the selections provably never meet.
"""

from __future__ import annotations

from reconciler.manifests.diagnostics import Diagnostic
from reconciler.manifests.fleet import Fleet, GroupImage, NodeGroupSpec
from reconciler.manifests.quoting import quote
from reconciler.manifests.selection import may_overlap
from reconciler.manifests.yamldoc import YamlDocument

_SHOWN = 3  # images named in one warning; the rest are counted


def _differing(first: NodeGroupSpec, second: NodeGroupSpec) -> tuple[list[str], str]:
    """Images both want with different settings, and which setting differs."""
    secrets: dict[str, str | None] = {i.image: i.secret for i in first.images}
    shared: list[GroupImage] = [i for i in second.images if i.image in secrets]
    if not shared:
        return [], ""
    if first.policy != second.policy:
        return [i.image for i in shared], "policies"
    return [i.image for i in shared if secrets[i.image] != i.secret], "imageSecrets"


def conflict_warnings(fleet: Fleet, docs: dict[str, YamlDocument]) -> list[Diagnostic]:
    """One warning per pair of groups that may share a node and differ on a shared image.

    Points at the metadata.name of the group that loses (its name sorts second).
    """
    found: list[Diagnostic] = []
    groups = fleet.groups  # sorted by name: the first of a pair wins
    for i, first in enumerate(groups):
        for second in groups[i + 1 :]:
            images, what = _differing(first, second)
            if not images or not may_overlap(first.selection, second.selection):
                continue
            named = ", ".join(quote(image) for image in images[:_SHOWN])
            more = f" and {len(images) - _SHOWN} more" if len(images) > _SHOWN else ""
            message = (
                f"groups {quote(first.name)} and {quote(second.name)} may select the same nodes and "
                f"want {named}{more} with different {what}; on a node both select, "
                f"{quote(first.name)} wins (its name sorts first)"
            )
            found.append(docs[second.name].diagnostic(("metadata", "name"), message, severity="warning"))
    return found
