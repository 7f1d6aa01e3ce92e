"""Bytes the planned jobs move, per group and per site, from the registry's sizes. Pure.

A (node, image) pair weighs the compressed layer bytes of the node's platform (the largest
platform for a node without an arch label: an upper bound). Layers a node already holds are
not subtracted, so this is what the uplinks carry at most. A site is the value of the node
label the drift report groups sites by (FleetConfig `spec.driftReport.siteLabel`, default
`topology.kubernetes.io/zone`), so the plan's sites are the drift report's sites; a node
without the label counts under "(unlabelled)", as in the drift report.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from reconciler.manifests.fleet import Fleet
from reconciler.observed.nodes import NodeFacts
from reconciler.observed.registry import ImageFacts
from reconciler.planner.model import PlannedJob

ARCH_LABEL = "kubernetes.io/arch"
OS_LABEL = "kubernetes.io/os"
#: The drift report's default site label (drift/report.py DriftSettings) and its "no label" site.
DEFAULT_SITE_LABEL = "topology.kubernetes.io/zone"
UNLABELLED = "(unlabelled)"


@dataclass(frozen=True, slots=True)
class TransferBytes:
    """Bytes to transfer per group and per site (both sorted by name), the site label they were
    cut by, and the planned pairs whose size the registry did not give."""

    by_group: tuple[tuple[str, int], ...]
    by_site: tuple[tuple[str, int], ...]
    site_label: str
    unsized_pairs: int


def site_label_of(fleet: Fleet) -> str:
    """The node label key sites are told apart by: the drift report's (`driftReport.siteLabel`)."""
    return fleet.drift_report.site_label if fleet.drift_report is not None else DEFAULT_SITE_LABEL


def node_platform(node: NodeFacts | None) -> tuple[str, str | None]:
    """(os, arch) of a node from its `kubernetes.io/os` (default linux) and `kubernetes.io/arch`
    labels; arch None when the node does not say."""
    if node is None:
        return "linux", None
    return node.labels.get(OS_LABEL, "linux"), node.labels.get(ARCH_LABEL)


def image_size(fact: ImageFacts | None, os: str, arch: str | None) -> int | None:
    """The compressed bytes a node of `os`/`arch` pulls for the image at most (the largest
    platform when `arch` is None), or None when the registry did not give a size for it."""
    if fact is None or not fact.exists or not fact.platforms:
        return None
    if arch is None:
        return max(p.size_bytes for p in fact.platforms)
    platform = fact.platform_for(os, arch)
    return platform.size_bytes if platform is not None else None


def transfer_bytes(created: Iterable[PlannedJob], nodes: Iterable[NodeFacts],
                   facts_of: Callable[[str], ImageFacts | None], *, site_label: str) -> TransferBytes:
    """Sum the sizes of the created jobs' (node, image) pairs per group and per site.
    `facts_of` gives the registry facts of a planned image (pinned or not)."""
    by_name: Mapping[str, NodeFacts] = {n.name: n for n in nodes}
    sizes: dict[tuple[str, str, str | None], int | None] = {}
    groups: dict[str, int] = defaultdict(int)
    sites: dict[str, int] = defaultdict(int)
    unsized = 0
    for job in created:
        for node_name in job.node_names:
            node = by_name.get(node_name)
            os, arch = node_platform(node)
            site = node.labels.get(site_label, UNLABELLED) if node is not None else UNLABELLED
            for image in job.images:
                key = (image, os, arch)
                if key not in sizes:
                    sizes[key] = image_size(facts_of(image), os, arch)
                size = sizes[key]
                if size is None:
                    unsized += 1
                    continue
                groups[job.group] += size
                sites[site] += size
    return TransferBytes(tuple(sorted(groups.items())), tuple(sorted(sites.items())), site_label, unsized)
