"""Wave membership: which wave of a group's rollout each node belongs to. Pure, deterministic.

A rollout is identified by the group's desired images (`rollout_id`): a commit that changes
them starts a new rollout with a new, independent shuffle. Each node gets a point in [0, 1)
from a stable hash of (rollout id, node name), so re-planning never moves a node, and the
nodes that come and go move no other node between share-sized waves (`{nodes: 10%}`: the
nodes whose point is below 0.10). Count-sized waves (`{nodes: 12}`) take the lowest points,
so a joining node with a lower point can push the last member of such a wave into the next.
Canary nodes (a label selector: matchLabels and matchExpressions) form wave 0; the last wave
takes every remaining node. A node that joins the group mid-rollout enters the wave open then
(`place_late_joiners`).
"""

from __future__ import annotations

import hashlib
from bisect import bisect_right
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime

import orjson

from reconciler.desired import selector_matches
from reconciler.manifests.fleet import NodeGroupSpec, NodeSelection
from reconciler.manifests.rollout_policy import RolloutPolicy

_SCALE = 2**64


def rollout_id(group: NodeGroupSpec) -> str:
    """The id of the group's current rollout: a digest of the images (and secrets) it desires."""
    content = orjson.dumps([group.name, [(i.image, i.secret or "") for i in group.images]])
    return hashlib.sha256(content).hexdigest()[:16]


def point(rollout: str, node: str) -> int:
    """The node's stable position in the rollout, an integer in [0, 2**64)."""
    return int.from_bytes(hashlib.blake2b(f"{rollout}/{node}".encode(), digest_size=8).digest(), "big")


def wave_count(policy: RolloutPolicy) -> int:
    """How many waves the rollout has (the canary one included)."""
    return max(len(policy.waves), 1) + (1 if policy.has_canary else 0)


def is_canary(policy: RolloutPolicy, labels: Mapping[str, str]) -> bool:
    """True when the policy names canaries and `labels` satisfy the canary selector
    (matchLabels AND matchExpressions, metav1.LabelSelector semantics)."""
    return policy.has_canary and selector_matches(_canary_selection(policy), labels)


def _canary_selection(policy: RolloutPolicy) -> NodeSelection:
    return NodeSelection(kind="selector", match_labels=policy.canary,
                         match_expressions=policy.canary_expressions)


def _canary_test(policy: RolloutPolicy) -> Callable[[Mapping[str, str]], bool] | None:
    """A canary check for many nodes: memoized by the values of the selector's keys (nodes
    share few label combinations), None without a canary."""
    if not policy.has_canary:
        return None
    if len(policy.canary) == 1 and not policy.canary_expressions:  # the common case, inline
        (key, value), = policy.canary
        return lambda labels: labels.get(key) == value
    selection = _canary_selection(policy)
    keys = tuple(sorted({k for k, _ in policy.canary} | {r.key for r in policy.canary_expressions}))
    memo: dict[tuple[str | None, ...], bool] = {}

    def test(labels: Mapping[str, str]) -> bool:
        projection = tuple(map(labels.get, keys))
        hit = memo.get(projection)
        if hit is None:
            hit = memo[projection] = selector_matches(selection, dict(zip(keys, projection, strict=True)))
        return hit

    return test


def assign_waves(policy: RolloutPolicy, rollout: str,
                 nodes: Iterable[tuple[str, Mapping[str, str]]]) -> dict[str, tuple[int, int]]:
    """node name -> (wave, point) for `nodes` given as (name, labels)."""
    offset = 1 if policy.has_canary else 0
    last = wave_count(policy) - 1
    canary = _canary_test(policy)
    listed = nodes if isinstance(nodes, list) else list(nodes)
    prefix, blake, as_int = f"{rollout}/".encode(), hashlib.blake2b, int.from_bytes
    # Comprehensions, not one loop with branches: this runs once per node of every group.
    points = [as_int(blake(prefix + name.encode(), digest_size=8).digest(), "big") for name, _ in listed]
    out: dict[str, tuple[int, int]] = {}
    ranked: list[tuple[int, str]]
    if canary is None:
        ranked = [(where, name) for (name, _), where in zip(listed, points, strict=True)]
    else:
        if len(policy.canary) == 1 and not policy.canary_expressions:  # no call per node
            (key, value), = policy.canary
            flags = [labels.get(key) == value for _, labels in listed]
        else:
            flags = [canary(labels) for _, labels in listed]
        ranked = []
        for (name, _), where, flag in zip(listed, points, flags, strict=True):
            if flag:
                out[name] = (0, where)
            else:
                ranked.append((where, name))
    by_count = any(size.count is not None for size in policy.waves)
    if by_count:
        ranked.sort()  # only count-sized waves need ranks
    limits = [(size.count is not None, size.count if size.count is not None
               else int((size.share or 0) * _SCALE), index + offset)
              for index, size in enumerate(policy.waves)]
    if not by_count:
        # Share limits grow (validated), so a node's wave is the first limit above its point.
        bounds = [limit for _, limit, _ in limits]
        waves = [wave for _, _, wave in limits] + [last]
        out.update({name: (waves[bisect_right(bounds, where)], where) for where, name in ranked})
        return out
    for rank, (where, name) in enumerate(ranked):
        wave = last
        for counted, limit, index in limits:
            if (rank if counted else where) < limit:
                wave = index
                break
        out[name] = (wave, where)
    return out


def place_late_joiners(waves: dict[str, tuple[int, int]], created: Callable[[str], datetime | None],
                       *, started: datetime | None, current: int) -> dict[str, tuple[int, int]]:
    """Late joiners enter the current wave (docs/rollout.md): a node created after the rollout
    `started` whose hashed wave is beyond the `current` (highest open) one moves into it, so
    it is served with the open wave instead of waiting for a wave sized without it. Nodes
    without a creation time, and every node of a rollout that starts now (`started` None),
    keep their hashed wave. `created` gives a node's creation time. Updates and returns `waves`."""
    if started is None:
        return waves
    for name, (wave, where) in waves.items():
        if wave > current:
            joined = created(name)
            if joined is not None and joined > started:
                waves[name] = (current, where)
    return waves
