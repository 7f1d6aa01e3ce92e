"""Desired state: which images every edge node must hold, with secret, policy and owning group.

desired(node) = union of the images of every group that selects the node (docs/design.md §2). The
owner of a (node, image) pair is the first group by name that desires it, active groups before
suspended ones (a suspended group must not hold back another group's pairs); when two groups
desire one image for one node with different secrets or policies, the owner wins, with a
warning. Nodes without the KubeEdge edge-role label are skipped with a warning (KubeEdge would
refuse them). Work is done once per distinct set of selecting groups (a "signature"), not per
node, so 100,000 nodes in a few dozen groups cost a few dozen merges.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from reconciler.manifests.fleet import Fleet, JobPolicy, NodeGroupSpec, NodeSelection
from reconciler.manifests.imageref import match_name
from reconciler.observed.nodes import EDGE_ROLE_LABEL, NodeFacts

#: KubeEdge NodeGroup membership label (docs/kubeedge.md §6.1).
NODE_GROUP_LABEL = "apps.kubeedge.io/belonging-to"
_SAMPLE = 5  # node names quoted in a warning before "and N more"


@dataclass(frozen=True, slots=True)
class DesiredImage:
    """One image a node must hold, how to pull it and which group owns the pair."""

    image: str
    secret: str | None
    policy: JobPolicy
    group: str
    suspended: bool

    @property
    def pulled_with(self) -> str:
        """What the pair is pulled with, as a fingerprint (see `pull_fingerprint`)."""
        return pull_fingerprint(self.secret, self.policy)


_DEFAULT_POLICY = JobPolicy()


def pull_fingerprint(secret: str | None, policy: JobPolicy) -> str:
    """A short readable text of the pull settings that differ from the defaults (empty for none):
    the image secret and the policy fields that decide how a node pulls. A failure record keeps
    it, so a manifest change that could fix the failure starts the attempts again."""
    parts = [f"secret={secret}"] if secret else []
    for name in ("timeout_seconds", "retry_times", "check_items"):
        value = getattr(policy, name)
        if value != getattr(_DEFAULT_POLICY, name):
            text = ",".join(value) if isinstance(value, tuple) else str(value)
            parts.append(f"{name}={text}")
    return ";".join(parts)


@dataclass(frozen=True, slots=True)
class NodeDesire:
    """What a node must hold. One instance is shared by all nodes of the same signature.

    `aliases`: (image, name) for desired images a node reports under another name (pinned by
    tag and digest: reported as `name@digest`, see imageref.match_name); `pulled_with`: image ->
    pull fingerprint of its owner.
    """

    groups: tuple[str, ...]  # every group selecting the node, by name
    images: Mapping[str, DesiredImage]  # image -> winning desire
    image_set: frozenset[str]
    by_group: tuple[tuple[str, frozenset[str]], ...]  # owning group -> the images it owns here
    aliases: tuple[tuple[str, str], ...] = ()
    pulled_with: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True, slots=True)
class DesiredState:
    """The desired state of the fleet over the given nodes.

    `nodes`: edge node name -> desire, only nodes that some group selects. `group_nodes`: group
    -> the edge nodes it selects (sorted), for every group of the fleet. `warnings`: sorted.
    """

    nodes: Mapping[str, NodeDesire]
    group_nodes: Mapping[str, tuple[str, ...]]
    warnings: tuple[str, ...]

    @property
    def pairs(self) -> int:
        """Number of desired (node, image) pairs."""
        return sum(len(d.image_set) for d in self.nodes.values())


def desired_state(fleet: Fleet, nodes: Iterable[NodeFacts]) -> DesiredState:
    """Resolve `fleet` against `nodes`: which group selects which node, and what each edge node
    must hold. Pure; never raises for valid Fleet values. See the module docstring for rules."""
    groups = sorted(fleet.groups, key=lambda g: g.name)
    matcher = _GroupMatcher(groups)
    cache: dict[tuple[int, ...], tuple[NodeDesire, list[tuple[str, str, str]]]] = {}
    conflicts: dict[tuple[str, str, str], int] = defaultdict(int)  # (image, winner, loser) -> nodes
    by_node: dict[str, NodeDesire] = {}
    group_nodes: dict[str, list[str]] = {g.name: [] for g in groups}
    non_edge: dict[str, list[str]] = defaultdict(list)
    seen_names: set[str] = set()
    for node in nodes:
        seen_names.add(node.name)
        signature = matcher.signature(node)
        if not signature:
            continue
        if not node.edge:
            for index in signature:
                non_edge[groups[index].name].append(node.name)
            continue
        merged = cache.get(signature)
        if merged is None:
            merged = cache[signature] = _merge([groups[i] for i in signature])
        desire, sig_conflicts = merged
        for key in sig_conflicts:
            conflicts[key] += 1
        for name in desire.groups:
            group_nodes[name].append(node.name)
        by_node[node.name] = desire
    warnings = _warnings(groups, non_edge, conflicts, seen_names)
    return DesiredState(
        nodes=MappingProxyType(dict(sorted(by_node.items()))),
        group_nodes=MappingProxyType({k: tuple(sorted(v)) for k, v in group_nodes.items()}),
        warnings=tuple(sorted(warnings)),
    )


class _GroupMatcher:
    """Finds the groups selecting a node: label and name lookups are indexed; selectors are
    evaluated once per distinct projection of the node's labels onto the keys they read."""

    def __init__(self, groups: list[NodeGroupSpec]) -> None:
        self._by_node_group: dict[str, list[int]] = defaultdict(list)
        self._by_name: dict[str, list[int]] = defaultdict(list)
        self._selectors: list[tuple[int, NodeSelection, tuple[str, ...], dict[tuple[str | None, ...], bool]]]
        self._selectors = []
        for index, group in enumerate(groups):
            sel = group.selection
            if sel.kind == "nodeGroup" and sel.node_group is not None:
                self._by_node_group[sel.node_group].append(index)
            elif sel.kind == "names":
                for name in sel.names:
                    self._by_name[name].append(index)
            elif sel.kind == "selector":
                keys = tuple(
                    sorted({k for k, _ in sel.match_labels} | {r.key for r in sel.match_expressions})
                )
                self._selectors.append((index, sel, keys, {}))

    def signature(self, node: NodeFacts) -> tuple[int, ...]:
        labels = node.labels
        found: list[int] = []
        node_group = labels.get(NODE_GROUP_LABEL)
        if node_group is not None:
            found.extend(self._by_node_group.get(node_group, ()))
        found.extend(self._by_name.get(node.name, ()))
        for index, sel, keys, memo in self._selectors:
            projection = tuple(labels.get(k) for k in keys)
            hit = memo.get(projection)
            if hit is None:
                hit = memo[projection] = selector_matches(sel, dict(zip(keys, projection, strict=True)))
            if hit:
                found.append(index)
        return tuple(sorted(set(found))) if found else ()


def selector_matches(selection: NodeSelection, labels: Mapping[str, str | None]) -> bool:
    """metav1.LabelSelector semantics: every matchLabels pair AND every requirement holds (an
    empty selector matches everything). A label mapped to None counts as absent."""
    for key, value in selection.match_labels:
        if labels.get(key) != value:
            return False
    for req in selection.match_expressions:
        found = labels.get(req.key)
        if req.operator == "In" and (found is None or found not in req.values):
            return False
        if req.operator == "NotIn" and found is not None and found in req.values:
            return False
        if req.operator == "Exists" and found is None:
            return False
        if req.operator == "DoesNotExist" and found is not None:
            return False
    return True


def _merge(groups: list[NodeGroupSpec]) -> tuple[NodeDesire, list[tuple[str, str, str]]]:
    """Union the images of `groups` (sorted by name): the first active group to claim an image
    owns it, else the first suspended one."""
    images: dict[str, DesiredImage] = {}
    conflicts: list[tuple[str, str, str]] = []
    for group in sorted(groups, key=lambda g: g.suspend):  # stable: by name within each kind
        for item in group.images:
            current = images.get(item.image)
            if current is None:
                images[item.image] = DesiredImage(
                    item.image, item.secret, group.policy, group.name, group.suspend
                )
            elif (current.secret, current.policy) != (item.secret, group.policy):
                conflicts.append((item.image, current.group, group.name))
    owned: dict[str, set[str]] = defaultdict(set)
    for desired in images.values():
        owned[desired.group].add(desired.image)
    desire = NodeDesire(
        groups=tuple(g.name for g in groups),
        images=MappingProxyType(dict(sorted(images.items()))),
        image_set=frozenset(images),
        by_group=tuple((g, frozenset(owned[g])) for g in sorted(owned)),
        aliases=tuple((i, match_name(i)) for i in sorted(images) if match_name(i) != i),
        pulled_with=MappingProxyType({i: d.pulled_with for i, d in sorted(images.items())}),
    )
    return desire, conflicts


def _warnings(
    groups: list[NodeGroupSpec],
    non_edge: Mapping[str, list[str]],
    conflicts: Mapping[tuple[str, str, str], int],
    seen_names: set[str],
) -> list[str]:
    out: list[str] = []
    for group_name, names in non_edge.items():
        out.append(
            f"group {group_name}: {len(names)} selected node(s) lack the label {EDGE_ROLE_LABEL} and are "
            f"skipped: {_sample(sorted(names))}"
        )
    for (image, winner, loser), count in conflicts.items():
        why = "first by name" if winner < loser else f"{loser} is suspended"
        out.append(
            f"image {image}: groups {winner} and {loser} desire it with different secrets or "
            f"policies on {count} node(s); {winner} wins ({why})"
        )
    for group in groups:
        if group.selection.kind == "names":
            unknown = [n for n in group.selection.names if n not in seen_names]
            if unknown:
                out.append(f"group {group.name}: {len(unknown)} named node(s) do not exist: "
                           f"{_sample(unknown)}")
    return out


def _sample(names: list[str]) -> str:
    head = ", ".join(names[:_SAMPLE])
    return head if len(names) <= _SAMPLE else f"{head} and {len(names) - _SAMPLE} more"
