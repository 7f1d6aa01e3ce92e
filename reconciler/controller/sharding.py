"""Which shard owns what, and the part of a plan a replica may write. Pure: no I/O, no clock.

Node groups (and, for evidence, nodes) are assigned to N shards by rendezvous hashing: each
(shard, name) pair gets a score from a keyed hash and the name goes to the shard with the
highest score. Every replica computes the same answer from the name alone (the hash is
blake2b, not Python's per-process `hash`), names spread evenly over the shards, and going
from N to N+1 shards moves only the names whose new top score is the new shard (about 1/(N+1)
of them); no other name changes shard.

A job is owned by the shard its `edgefleet.io/group` label hashes to, whether or not that
group is still in the repository, so the garbage collection of a removed group's jobs is done
by exactly one replica. An inventory record is owned by the shard its node name hashes to.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Collection, Iterable, Sequence
from dataclasses import replace

from reconciler.observed.jobs import JobFacts
from reconciler.planner.model import Plan


def shard_of(name: str, shards: int) -> int:
    """The shard (0..shards-1) that owns `name` (a node group, or a node for its inventory)."""
    if shards < 1:
        raise ValueError("the number of shards must be at least 1")
    if shards == 1:
        return 0
    best, best_score = 0, -1
    for shard in range(shards):
        digest = hashlib.blake2b(f"{shard}\x00{name}".encode(), digest_size=8).digest()
        score = int.from_bytes(digest, "big")
        if score > best_score:
            best, best_score = shard, score
    return best


def shard_lease_name(lease_name: str, shard: int) -> str:
    """The Lease of one shard: `<lease>-shard-<i>` (e.g. edgefleet-shard-0)."""
    return f"{lease_name}-shard-{shard}"


def member_lease_name(lease_name: str, identity: str) -> str:
    """The Lease a replica announces itself with: `<lease>-member-<hash of identity>` (an
    identity need not be a valid object name)."""
    return f"{lease_name}-member-{hashlib.blake2b(identity.encode(), digest_size=6).hexdigest()}"


def fair_share(shards: int, live_members: int) -> int:
    """The most shards one replica should hold while `live_members` replicas (itself
    included) are alive: ceil(shards / live)."""
    return math.ceil(shards / max(live_members, 1))


def split_plan(plan: Plan, jobs: Sequence[JobFacts], shards: int, held: Collection[int]) -> dict[int, Plan]:
    """The part of `plan` each shard of `held` writes: its groups' job creates, deletes and
    rollout statuses, and the inventory records of its nodes.

    Evidence comes before deletion (kube/applying.py): a deletion whose job names a node whose
    inventory record is written in another part of the plan (perhaps by another replica) waits
    for a later cycle, when that record is written and the plan no longer carries it.
    The counts and reports of the returned parts are the whole plan's.
    """
    owned = frozenset(held)
    node_shard = {u.node: shard_of(u.node, shards) for u in plan.inventory_updates}
    nodes_of = {job.name: job.template.node_names for job in jobs}
    parts: dict[int, Plan] = {}
    for shard in sorted(owned):
        if not 0 <= shard < shards:
            raise ValueError(f"shard {shard} is outside 0..{shards - 1}")

        def ours(name: str, shard: int = shard) -> bool:
            return shard_of(name, shards) == shard

        def evidence_elsewhere(nodes: Iterable[str], shard: int = shard) -> bool:
            return any(node_shard.get(node, shard) != shard for node in nodes)

        parts[shard] = replace(
            plan,
            create=tuple(j for j in plan.create if ours(j.group)),
            delete=tuple(d for d in plan.delete
                         if ours(d.group) and not evidence_elsewhere(nodes_of.get(d.name, ()))),
            inventory_updates=tuple(u for u in plan.inventory_updates if node_shard[u.node] == shard),
            rollouts=tuple(r for r in plan.rollouts if ours(r.group)),
        )
    return parts
