"""Registry sizes for the agent disk rule (planner/agent_trust.py): with the agent's disk facts,
a node is not sent more than it can hold, even for images no agent report sizes yet (a new
image, or a pinned digest no node holds). Pure.

An image's weight on a node is the registry's compressed layer bytes for the node's platform
(`kubernetes.io/os`/`arch`): a lower bound of what the pull writes (containerd keeps the
compressed blobs and unpacks them too), so a node deferred on it truly lacks the room. A size
an agent report gives wins (it is what the runtime itself says). Only nodes whose fresh report
gives free bytes are looked at, and only those with an arch label (a node that does not say
its platform is not judged by it, as in the registry rules).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from reconciler.observed.nodes import NodeFacts
from reconciler.planner.agent_trust import AgentView
from reconciler.planner.registry_bytes import image_size, node_platform
from reconciler.planner.registry_rules import Pinning


def with_registry_sizes(view: AgentView, pinning: Pinning, nodes: Iterable[NodeFacts]) -> AgentView:
    """`view` with `registry_sizes` for its fresh, disk-reporting nodes: per node, image -> the
    registry's bytes for its platform, for every image of the (pinned) fleet the registry sized.
    Nodes of one platform share one mapping."""
    judged = {name for name, report in view.fresh.items() if report.free_bytes is not None}
    if not judged:
        return view
    images = sorted({item.image for group in pinning.fleet.groups for item in group.images})
    per_platform: dict[tuple[str, str], dict[str, int]] = {}
    by_node: dict[str, dict[str, int]] = {}
    for node in nodes:
        if node.name not in judged:
            continue
        os, arch = node_platform(node)
        if arch is None:
            continue
        sizes = per_platform.get((os, arch))
        if sizes is None:
            sizes = per_platform[(os, arch)] = {
                image: size for image in images
                if (size := image_size(pinning.facts_of(image), os, arch)) is not None}
        if sizes:
            by_node[node.name] = sizes
    return replace(view, registry_sizes=by_node) if by_node else view
