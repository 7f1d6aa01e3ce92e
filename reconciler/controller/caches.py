"""Typed watch caches: the cluster as the watch loops last saw it, as the same facts a LIST
decodes to (observed/), so the daemon plans from memory with the planning functions `sync`
uses, and a cycle with nothing new sends no request.

Each `FactCache` holds one resource by name. Its watch loop (watching.ResourceWatch) fills it
from the list pages and then from every event, *before* it wakes the work queue, so a cycle
woken by an event sees it. Objects are decoded with the list decoders of observed/ (one item
wrapped as a list), so a cached fact equals the listed one field for field.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

import orjson

from reconciler.manifests.imageref import normalize_image
from reconciler.observed import (
    InventoryFacts,
    JobFacts,
    NodeFacts,
    decode_inventories,
    decode_jobs,
    decode_nodes,
)
from reconciler.observed.rollouts import RolloutFacts, decode_rollouts

T = TypeVar("T")
PageDecoder = Callable[[bytes], Sequence[Any]]


@functools.lru_cache(maxsize=1 << 16)
def _normalize(name: str) -> str:
    # Shared across events: a fleet reports a few thousand distinct names, not one per node.
    return normalize_image(name)


def decode_node_page(body: bytes) -> list[NodeFacts]:
    """Nodes of a list page, image names normalized (as kube.reading does)."""
    return decode_nodes(body, normalize=_normalize)


def decode_rollout_page(body: bytes) -> list[RolloutFacts]:
    """FleetRollouts of a list page."""
    return list(decode_rollouts(body).values())


class FactCache(Generic[T]):
    """One resource's facts by object name, fed by one watch loop, read by cycles.

    `generation` grows with every change; `values()` is rebuilt (sorted by name, the order
    of a LIST) only after one. `broken` names objects that failed to decode: a cycle must not
    plan from a cache that lost them (it relists, and the list reports the error as today).
    """

    def __init__(self, resource: str, decode_page: PageDecoder, *,
                 name_of: Callable[[Any], str] = lambda fact: str(fact.name),
                 changed: threading.Condition | None = None) -> None:
        self.resource = resource
        self._decode_page, self._name_of = decode_page, name_of
        self._facts: dict[str, T] = {}
        # Notified after every change; shared by a WatchCaches' caches, so one wait sees all.
        self.changed = changed if changed is not None else threading.Condition()
        self.generation = 0
        self.broken: dict[str, str] = {}
        self.synced = False
        self._sorted: tuple[T, ...] = ()
        self._sorted_generation = -1

    def decode_page(self, body: bytes) -> dict[str, T]:
        """The facts of one list page by name. Raises ValueError on a malformed page."""
        return {self._name_of(fact): fact for fact in self._decode_page(body)}

    def replace(self, facts: dict[str, T]) -> None:
        """After a (re)list: exactly these objects."""
        with self.changed:
            self._facts, self.broken, self.synced = dict(facts), {}, True
            self._bump()

    def put(self, obj: dict[str, Any]) -> None:
        """An ADDED or MODIFIED event's object."""
        name = str((obj.get("metadata") or {}).get("name", ""))
        try:
            fact = next(iter(self.decode_page(orjson.dumps({"items": [obj]})).values()))
        except (ValueError, StopIteration) as error:
            with self.changed:
                self._facts.pop(name, None)
                self.broken[name] = f"{type(error).__name__}: {error}"
                self._bump()
            return
        with self.changed:
            self._facts[name] = fact
            self.broken.pop(name, None)
            self._bump()

    def remove(self, name: str) -> None:
        """A DELETED event."""
        with self.changed:
            self._facts.pop(name, None)
            self.broken.pop(name, None)
            self._bump()

    def _bump(self) -> None:
        self.generation += 1
        self.changed.notify_all()

    def get(self, name: str) -> T | None:
        """The cached fact of `name`, or None."""
        with self.changed:
            return self._facts.get(name)

    def __len__(self) -> int:
        with self.changed:
            return len(self._facts)

    def values(self) -> tuple[T, ...]:
        """Every cached fact, sorted by name (rebuilt only after a change)."""
        with self.changed:
            if self._sorted_generation != self.generation:
                self._sorted = tuple(self._facts[k] for k in sorted(self._facts))
                self._sorted_generation = self.generation
            return self._sorted


class WatchCaches:
    """The caches the daemon plans from: nodes, every ImagePrePullJob (unmanaged ones are
    evidence too), EdgeNodeInventory objects and FleetRollouts."""

    def __init__(self) -> None:
        self.changed = threading.Condition()
        self.nodes: FactCache[NodeFacts] = FactCache("nodes", decode_node_page, changed=self.changed)
        self.jobs: FactCache[JobFacts] = FactCache("imageprepulljobs", decode_jobs, changed=self.changed)
        self.inventories: FactCache[InventoryFacts] = FactCache(
            "edgenodeinventories", decode_inventories, changed=self.changed)
        self.rollouts: FactCache[RolloutFacts] = FactCache(
            "fleetrollouts", decode_rollout_page, name_of=lambda r: str(r.metadata.name),
            changed=self.changed)

    def all(self) -> tuple[FactCache[Any], ...]:
        """Every cache, in watch order."""
        return (self.nodes, self.jobs, self.inventories, self.rollouts)

    def wait_for(self, predicate: Callable[[], bool], timeout: float) -> bool:
        """Block until `predicate()` holds (re-checked after every change of any cache; it
        runs under the caches' lock, so it must read them through `get`) or `timeout` seconds
        pass."""
        with self.changed:
            return self.changed.wait_for(predicate, timeout)
