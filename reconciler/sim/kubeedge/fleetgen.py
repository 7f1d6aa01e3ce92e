"""Seeded fleet generation: edge nodes across sites (one NodeGroup per site), realistic image
stores, some offline, flapping, silent or slow nodes, and a couple of control-plane nodes.

Deterministic per seed. Fast at 100,000 nodes: nodes draw their images from a few dozen
store "profiles" (as the nodes of one site run the same workloads), so image lists and their
JSON are built once per profile and shared.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import orjson

from reconciler.sim.apiserver.errors import Obj
from reconciler.sim.kubeedge.edge import GIB, Behaviour, EdgeNode, StoredImage
from reconciler.sim.kubeedge.nodegroups import BELONGING_LABEL
from reconciler.sim.kubeedge.nodeobjects import SITE_LABEL, control_plane_node_object, edge_node_object
from reconciler.sim.kubeedge.registry import ImageCatalogue, RegistryImage, default_catalogue

#: Sites of the example fleet repository (fleet-examples/): the two factories are KubeEdge
#: NodeGroups (kubeedge/nodegroups.yaml); the shops are selected by their site label only.
DEFAULT_SITES: tuple[str, ...] = ("factory-shanghai", "factory-suzhou", "shop-berlin",
                                  "shop-hamburg", "shop-munich")
DEFAULT_NODE_GROUP_SITES: tuple[str, ...] = ("factory-shanghai", "factory-suzhou")
#: The toll stations fleet-examples/groups/toll-a4.yaml lists by name.
DEFAULT_NAMED_NODES: tuple[str, ...] = ("toll-a4-km012-01", "toll-a4-km012-02",
                                        "toll-a4-km047-01", "toll-a4-km047-02")
DEFAULT_NAMED_SITE = "toll-a4"
PROFILES_PER_SITE = 8


@dataclass(frozen=True, slots=True)
class FleetOptions:
    """What to generate. Fractions are per-node probabilities, drawn from the seed."""

    nodes: int = 50
    seed: int = 0
    sites: tuple[str, ...] = DEFAULT_SITES
    node_group_sites: tuple[str, ...] = DEFAULT_NODE_GROUP_SITES  # sites with a NodeGroup
    named_nodes: tuple[str, ...] = DEFAULT_NAMED_NODES  # generated first (if `nodes` allows)
    named_site: str = DEFAULT_NAMED_SITE
    control_plane: int = 2
    offline: float = 0.04
    flapping: float = 0.02
    silent: float = 0.01
    slow: float = 0.10
    images_min: int = 20
    images_max: int = 50


@dataclass
class Fleet:
    """A generated fleet: edge node state, control-plane node names, NodeGroups."""

    edges: list[EdgeNode]
    control_plane: list[str]
    node_groups: list[Obj]
    profiles: list[tuple[StoredImage, ...]] = field(default_factory=list)
    profile_of: dict[str, int] = field(default_factory=dict)  # node name -> profile index


def node_name(site: str, index: int) -> str:
    """Generated edge node names: `<site>-<4 digits>` (more digits past 9999)."""
    return f"{site}-{index:04d}"


def node_group(site: str) -> Obj:
    """The NodeGroup of a site: every node labelled with the site."""
    return {"apiVersion": "apps.kubeedge.io/v1alpha1", "kind": "NodeGroup",
            "metadata": {"name": site}, "spec": {"matchLabels": {SITE_LABEL: site}}}


def _profiles(rng: random.Random, catalogue: ImageCatalogue, opts: FleetOptions,
              start: datetime) -> list[tuple[StoredImage, ...]]:
    pool: list[RegistryImage] = [i for i in catalogue.known() if not i.needs_secret]
    out: list[tuple[StoredImage, ...]] = []
    for _ in range(PROFILES_PER_SITE * max(1, len(opts.sites))):
        k = min(len(pool), rng.randint(opts.images_min, opts.images_max))
        chosen = rng.sample(pool, k)
        stored = tuple(
            StoredImage(img, start - timedelta(days=rng.randint(1, 90), seconds=rng.randint(0, 86399)),
                        in_use=i < 6)
            for i, img in enumerate(chosen))
        out.append(stored)
    return out


def generate_fleet(opts: FleetOptions, *, start: datetime,
                   catalogue: ImageCatalogue | None = None) -> Fleet:
    """Build the fleet for `opts` (pure: same options and start, same fleet)."""
    rng = random.Random(opts.seed)
    catalogue = catalogue or default_catalogue()
    profiles = _profiles(rng, catalogue, opts, start)
    sites = opts.sites or ("default",)
    per_site = [0] * len(sites)
    edges: list[EdgeNode] = []
    profile_of: dict[str, int] = {}
    disks = (16 * GIB, 32 * GIB, 64 * GIB, 64 * GIB, 128 * GIB)
    named = opts.named_nodes[: opts.nodes]
    for i in range(opts.nodes):
        if i < len(named):
            s, site, name = i % len(sites), opts.named_site, named[i]
        else:
            s = (i - len(named)) % len(sites)
            per_site[s] += 1
            site = sites[s]
            name = node_name(site, per_site[s])
        r = rng.random()
        if r < opts.offline:
            behaviour = Behaviour.OFFLINE
        elif r < opts.offline + opts.flapping:
            behaviour = Behaviour.FLAPPING
        elif r < opts.offline + opts.flapping + opts.silent:
            behaviour = Behaviour.SILENT
        else:
            behaviour = Behaviour.ONLINE
        slow = rng.random() < opts.slow
        link = rng.uniform(62_500, 625_000) if slow else rng.uniform(2_500_000, 25_000_000)
        p = s * PROFILES_PER_SITE + rng.randrange(PROFILES_PER_SITE)
        edge = EdgeNode(
            name=name, site=site, arch="arm64" if rng.random() < 0.3 else "amd64",
            link_bps=link, disk_bytes=rng.choice(disks), cpu_percent=rng.uniform(5, 70),
            mem_percent=rng.uniform(15, 75), behaviour=behaviour,
            labels={BELONGING_LABEL: site} if site in opts.node_group_sites else {},
            images={s_.image.ref: s_ for s_ in profiles[p]},
            connected=behaviour is not Behaviour.OFFLINE,
        )
        edges.append(edge)
        profile_of[name] = p
    control = [f"cloud-master-{i + 1}" for i in range(opts.control_plane)]
    groups = [node_group(site) for site in sites if site in opts.node_group_sites]
    return Fleet(edges, control, groups, profiles, profile_of)


def fleet_node_objects(fleet: Fleet, now: datetime, *, image_cap: int,
                       kubeedge: str = "1.21") -> list[Obj]:
    """Every Node object of the fleet (control plane first). Image lists are shared between
    nodes of one profile: treat the result as read-only."""
    cache: dict[int, list[Obj]] = {}
    out = [control_plane_node_object(name, now) for name in fleet.control_plane]
    for edge in fleet.edges:
        p = fleet.profile_of.get(edge.name)
        images = None
        if p is not None:
            images = cache.get(p)
            if images is None:
                images = cache[p] = edge.status_images(image_cap)
        out.append(edge_node_object(edge, now, image_cap=image_cap, kubeedge=kubeedge, images=images))
    return out


def node_list_json(opts: FleetOptions, *, start: datetime, image_cap: int = -1,
                   kubeedge: str = "1.21", catalogue: ImageCatalogue | None = None) -> bytes:
    """The fleet as `kubectl get nodes -o json` prints it (`kind: List`), without a server:
    for benchmarks and `plan --nodes` snapshots. `image_cap` -1 reports every image."""
    fleet = generate_fleet(opts, start=start, catalogue=catalogue)
    empty = fleet_node_objects(fleet, start, image_cap=0, kubeedge=kubeedge)
    # Each node's JSON ends with `"images":[]}}`: splice in its profile's list, serialized
    # once per profile instead of once per node.
    encoded: dict[int, bytes] = {}
    parts: list[bytes] = [b'{"apiVersion":"v1","kind":"List","items":[']
    tail = b"[]}}"
    for i, obj in enumerate(empty):
        raw = orjson.dumps(obj)
        p = fleet.profile_of.get(obj["metadata"]["name"])
        if i:
            parts.append(b",")
        if p is None or image_cap == 0:
            parts.append(raw)
            continue
        images = encoded.get(p)
        if images is None:
            edge = next(e for e in fleet.edges if fleet.profile_of[e.name] == p)
            images = encoded[p] = orjson.dumps(edge.status_images(image_cap))
        parts.extend((raw[: -len(tail)], images, b"}}"))
    parts.append(b'],"metadata":{"resourceVersion":""}}')
    return b"".join(parts)


def pick(edges: Sequence[EdgeNode], behaviour: Behaviour, count: int = 1) -> list[EdgeNode]:
    """The first `count` edge nodes with `behaviour` (for tests and demos)."""
    return [e for e in edges if e.behaviour is behaviour][:count]
