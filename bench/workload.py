"""The benchmark's inputs: a seeded node snapshot and a matching fleet repository, on disk.

The snapshot is what `kubectl get nodes -o json` would print for a generated fleet (compact
JSON, every reported image: the hardest case for the decoder), one KubeEdge NodeGroup per
site. The fleet repository holds one NodeGroupImages document per site (selecting it by NodeGroup
or by the site label, alternately): a shared ImageSet,
images some nodes of the site already hold, and a few new ones no node holds yet.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from reconciler.sim.kubeedge.fleetgen import FleetOptions, node_list_json
from reconciler.sim.kubeedge.nodeobjects import SITE_LABEL
from reconciler.sim.kubeedge.registry import default_catalogue

#: Sites, hence node groups and NodeGroupImages documents (the issue asks for 40+).
GROUPS = 42
IMAGES_PER_NODE = (20, 50)  # what each generated node reports holding
GROUP_POOL_IMAGES = 22  # desired images per group drawn from what nodes may already hold
GROUP_NEW_IMAGES = 3  # desired images per group that no node holds
START = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Workload:
    """One generated size: where its files are and what they hold."""

    nodes: int
    snapshot: Path
    repo: Path
    snapshot_bytes: int


def site_names(groups: int = GROUPS) -> tuple[str, ...]:
    """Site (= NodeGroup = fleet group) names: site-00, site-01, ..."""
    return tuple(f"site-{i:02d}" for i in range(groups))


def write_workload(nodes: int, directory: Path, *, seed: int, groups: int = GROUPS) -> Workload:
    """Generate a `nodes`-node snapshot and its fleet repository under `directory`.

    Deterministic per (nodes, seed, groups). Raises OSError when `directory` is not writable.
    """
    sites = site_names(groups)
    options = FleetOptions(nodes=nodes, seed=seed, sites=sites, node_group_sites=sites, named_nodes=(),
                           images_min=IMAGES_PER_NODE[0], images_max=IMAGES_PER_NODE[1])
    snapshot = directory / f"nodes-{nodes}.json"
    data = node_list_json(options, start=START)
    snapshot.write_bytes(data)
    size = len(data)
    del data  # the parent keeps no snapshot in memory: each measurement runs in its own process
    repo = directory / f"fleet-{nodes}"
    repo.mkdir(exist_ok=True)
    (repo / "fleet.yaml").write_text(fleet_yaml(sites, seed=seed))
    return Workload(nodes=nodes, snapshot=snapshot, repo=repo, snapshot_bytes=size)


def fleet_yaml(sites: tuple[str, ...], *, seed: int) -> str:
    """A fleet repository (one multi-document file) with a NodeGroupImages per site."""
    rng = random.Random(seed)
    pool = [image.ref for image in default_catalogue().known() if not image.needs_secret]
    shared = sorted(rng.sample(pool, 4))
    docs = [
        _doc("FleetConfig", None, ["defaults:", "  concurrency: 10", "  timeoutSeconds: 600",
                                   "  maxNodesPerJob: 100"]),
        _doc("ImageSet", "base-runtime", ["images:", *(f"  - {ref}" for ref in shared)]),
    ]
    for index, site in enumerate(sites):
        # Half the groups use the KubeEdge NodeGroup, half a label selector: both paths count.
        selection = (f"  nodeGroup: {site}" if index % 2 == 0
                     else f"  selector: {{matchLabels: {{{SITE_LABEL}: {site}}}}}")
        own = sorted(set(rng.sample(pool, GROUP_POOL_IMAGES)) - set(shared))
        new = [f"registry.example.com/bench/{site}-app-{i}:1.0.{rng.randrange(100)}"
               for i in range(GROUP_NEW_IMAGES)]
        docs.append(_doc("NodeGroupImages", f"{site}-images", [
            "nodes:", selection,
            "imageSets: [base-runtime]",
            "images:", *(f"  - {ref}" for ref in own + new),
        ]))
    return "---\n".join(docs)


def _doc(kind: str, name: str | None, spec: list[str]) -> str:
    head = ["apiVersion: edgefleet.io/v1alpha1", f"kind: {kind}"]
    if name is not None:
        head.append(f"metadata: {{name: {name}}}")
    return "\n".join([*head, "spec:", *(f"  {line}" for line in spec)]) + "\n"
