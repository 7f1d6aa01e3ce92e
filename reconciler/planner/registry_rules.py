"""Registry rules (docs/registry.md): what the registry's answers change in a plan. Pure.

Fed the registry facts per committed image reference (observed/registry.py), the planner:

- pins (`pinDigests`): a group's `name:tag` becomes `name:tag@sha256:...`, the digest the tag
  means now, so a job pulls the same bytes on every node even if the tag moves while it runs
  (containerd and the kubelet pull by digest when both are given; nodes report the digest, and
  presence compares by it: a node holding an older digest of the tag pulls again). A digest a
  running job of the group already pulls wins over the registry's current answer, so a tag
  that moves mid-rollout does not restart it; the next rollout takes the new digest;
- holds back, never deletes: an image the registry says does not exist (`not-in-registry`),
  an image without a platform for a node's `kubernetes.io/os`/`kubernetes.io/arch` labels on
  that node (`no-platform`), and a pinned image whose digest cannot be learnt
  (`registry-unreachable`: pinning promised a digest; the tag alone would break it);
- counts the bytes the planned jobs move per group (the compressed layers of each node's
  platform).

An image the registry could not tell about (`exists` None) is otherwise planned as today, with
a warning: a registry outage never blocks planning and never deletes a job.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from reconciler.kubeedge.status import read_job
from reconciler.manifests.fleet import Fleet, GroupImage
from reconciler.manifests.imageref import ImageRefError, parse_image
from reconciler.observed.jobs import JobFacts
from reconciler.observed.nodes import NodeFacts
from reconciler.observed.registry import ImageFacts
from reconciler.planner.jobs import JobKey
from reconciler.planner.model import (
    GROUP_LABEL,
    MANAGED_BY_LABEL,
    MANAGED_BY_VALUE,
    Plan,
    PlannedJob,
)
from reconciler.planner.registry_bytes import node_platform, site_label_of, transfer_bytes

NOT_IN_REGISTRY = "not-in-registry"
NO_PLATFORM = "no-platform"
UNPINNABLE = "registry-unreachable"

#: Work as planning.py hands it to jobs.cut_jobs: key -> allowed set -> (missing set, node).
Work = dict[JobKey, dict[frozenset[str], list[tuple[frozenset[str], str]]]]


@dataclass(frozen=True, slots=True, order=True)
class Hold:
    """Pairs of one group and image not sent, and why: `reason` is one of the codes above,
    `detail` one line for people (never a secret: registry errors hold none). `node_names`
    are the held nodes (for the drift report's per-pair reasons; not in the plan's JSON)."""

    group: str
    image: str  # as committed
    reason: str
    nodes: int
    detail: str
    node_names: tuple[str, ...] = field(default=(), compare=False, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {"group": self.group, "image": self.image, "reason": self.reason,
                "nodes": self.nodes, "detail": self.detail}


@dataclass(frozen=True, slots=True)
class Pinning:
    """The fleet as planned (pinned) and what pinning decided: pinned reference -> committed
    one, committed references that could not be pinned (-> why), and the facts."""

    fleet: Fleet
    committed: Mapping[str, str]
    unpinnable: Mapping[str, str]
    facts: Mapping[str, ImageFacts]

    def facts_of(self, image: str) -> ImageFacts | None:
        """The registry facts of a planned image (pinned or not)."""
        return self.facts.get(self.committed.get(image, image))


@dataclass(frozen=True, slots=True)
class RegistryReport:
    """The registry section of a plan: holds, pins, bytes per group and site, images not checked."""

    holds: tuple[Hold, ...]
    pins: tuple[tuple[str, str], ...]  # (committed, pinned), sorted
    bytes_by_group: tuple[tuple[str, int], ...]  # sorted by group
    unsized_pairs: int  # planned pairs whose size the registry did not give
    unknown: tuple[tuple[str, str], ...]  # (image, why) the registry could not tell about
    unpinned: frozenset[str] = frozenset()  # of those, pinned images held for want of a digest
    bytes_by_site: tuple[tuple[str, int], ...] = ()  # sorted by site (registry_bytes.py)
    site_label: str = ""

    @property
    def warnings(self) -> tuple[str, ...]:
        """One line per image the registry could not tell about, saying what was done."""
        return tuple(f"registry facts unknown for {image}: {why}; "
                     + ("held: pinDigests needs its digest" if image in self.unpinned
                        else "planned without a registry check")
                     for image, why in self.unknown)

    def to_dict(self) -> dict[str, Any]:
        return {
            "held": [h.to_dict() for h in self.holds],
            "pinned": [{"image": c, "pinned": p} for c, p in self.pins],
            "bytesToTransfer": [{"group": g, "bytes": b} for g, b in self.bytes_by_group],
            "siteLabel": self.site_label,
            "bytesToTransferPerSite": [{"site": s, "bytes": b} for s, b in self.bytes_by_site],
            "unsizedPairs": self.unsized_pairs,
            "notChecked": [image for image, _ in self.unknown],
        }


def registry_lines(the_plan: Plan) -> tuple[str, ...]:
    """What the registry rules did to `the_plan`, one line each (for `sync` and the daemon's
    log): each hold, then each image the registry could not tell about."""
    report = the_plan.registry
    if not isinstance(report, RegistryReport):
        return ()
    holds = tuple(f"registry: held {h.image} ({h.reason}) on {h.nodes} node(s) of group {h.group}: "
                  f"{h.detail}" for h in report.holds)
    return holds + report.warnings


def _in_flight_digests(jobs: Iterable[JobFacts]) -> dict[tuple[str, str], str]:
    """(group, committed `name:tag`) -> digest that a running managed job of the group pulls."""
    found: dict[tuple[str, str], str] = {}
    for job in jobs:
        labels = job.metadata.labels
        if labels.get(MANAGED_BY_LABEL) != MANAGED_BY_VALUE or job.metadata.deletion_timestamp:
            continue
        reading = read_job(job)
        if reading.finished:
            continue
        for image in reading.images:
            committed, at, digest = image.partition("@")
            if at and ":" in committed.rsplit("/", 1)[-1]:
                found.setdefault((labels.get(GROUP_LABEL, ""), committed), digest)
    return found


def _needs_pin(image: str) -> bool:
    try:
        return parse_image(image).digest is None
    except ImageRefError:  # never happens for a loaded fleet; leave such a string alone
        return False


def pin_fleet(fleet: Fleet, facts: Mapping[str, ImageFacts], jobs: Iterable[JobFacts]) -> Pinning:
    """Pin the images of `pinDigests` groups (see the module docstring). Reads the fleet, the
    registry facts by committed reference and the jobs (for digests in flight)."""
    flying = _in_flight_digests(jobs) if any(g.pin_digests for g in fleet.groups) else {}
    committed: dict[str, str] = {}
    unpinnable: dict[str, str] = {}
    groups = []
    for group in fleet.groups:
        if not group.pin_digests:
            groups.append(group)
            continue
        images = []
        for item in group.images:
            fact = facts.get(item.image)
            digest = flying.get((group.name, item.image))
            if digest is None and fact is not None and fact.exists and fact.digest:
                digest = fact.digest
            if digest is not None and _needs_pin(item.image):
                pinned = f"{item.image}@{digest}"
                committed[pinned] = item.image
                images.append(GroupImage(pinned, item.secret))
                continue
            if _needs_pin(item.image) and (fact is None or fact.exists is None):
                unpinnable[item.image] = (fact.error if fact is not None and fact.error
                                          else "the registry was not asked") or ""
            images.append(item)
        groups.append(replace(group, images=tuple(sorted(images))))
    return Pinning(replace(fleet, groups=tuple(groups)), committed, unpinnable, facts)


def _verdict(image: str, pinning: Pinning, os: str, arch: str | None) -> tuple[str, str] | None:
    """(reason, detail) when `image` must not be sent to a node of `os`/`arch`, else None."""
    committed = pinning.committed.get(image, image)
    if committed in pinning.unpinnable:
        return UNPINNABLE, f"pinDigests needs its digest: {pinning.unpinnable[committed]}"
    fact = pinning.facts.get(committed)
    if fact is None or fact.exists is None:
        return None
    if fact.exists is False:
        return NOT_IN_REGISTRY, fact.error or "the registry does not have it"
    if arch is None or not fact.platforms or fact.platform_for(os, arch) is not None:
        return None
    offered = ", ".join(sorted({f"{p.os}/{p.architecture}" for p in fact.platforms}))
    return NO_PLATFORM, f"no {os}/{arch} platform (offers {offered})"


def hold_work(work: Mapping[JobKey, Mapping[frozenset[str], list[tuple[frozenset[str], str]]]],
              pinning: Pinning, nodes: Iterable[NodeFacts]) -> tuple[Work, tuple[Hold, ...]]:
    """Take held images out of `work` (see the module docstring): out of each node's missing
    set and out of its allowed set, so that no job pulls a held image onto it. Returns the
    remaining work and the holds, one per (group, image, reason), with their node counts."""
    by_name = {n.name: n for n in nodes}
    verdicts: dict[tuple[frozenset[str], str, str | None], dict[str, tuple[str, str]]] = {}
    held_nodes: dict[tuple[str, str, str, str], list[str]] = defaultdict(list)
    kept: Work = defaultdict(lambda: defaultdict(list))
    for key, buckets in work.items():
        for allowed, entries in buckets.items():
            for missing, name in entries:
                os, arch = node_platform(by_name.get(name))
                held = verdicts.get((allowed, os, arch))
                if held is None:
                    held = verdicts[(allowed, os, arch)] = {
                        image: v for image in allowed
                        if (v := _verdict(image, pinning, os, arch)) is not None}
                if not held:
                    kept[key][allowed].append((missing, name))
                    continue
                for image in missing.intersection(held):
                    reason, detail = held[image]
                    held_nodes[(key[0], pinning.committed.get(image, image), reason, detail)].append(name)
                if rest := missing.difference(held):
                    kept[key][allowed.difference(held)].append((rest, name))
    holds = tuple(sorted(Hold(group, image, reason, len(names), detail, tuple(sorted(names)))
                         for (group, image, reason, detail), names in held_nodes.items()))
    return {k: dict(v) for k, v in kept.items()}, holds


def registry_report(pinning: Pinning, holds: tuple[Hold, ...], created: Iterable[PlannedJob],
                    nodes: Iterable[NodeFacts]) -> RegistryReport:
    """The registry section of a plan: bytes per group and per site (the drift report's site
    label, registry_bytes.py) over the created jobs' (node, image) pairs, holds, pins."""
    moved = transfer_bytes(created, nodes, pinning.facts_of, site_label=site_label_of(pinning.fleet))
    unknown = tuple(sorted((ref, f.error or "no answer") for ref, f in pinning.facts.items()
                           if f.exists is None))
    pins = tuple(sorted((c, p) for p, c in pinning.committed.items()))
    return RegistryReport(holds, pins, moved.by_group, moved.unsized_pairs, unknown,
                          frozenset(pinning.unpinnable), moved.by_site, moved.site_label)
