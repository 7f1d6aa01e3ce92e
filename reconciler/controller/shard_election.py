"""Holding shards: one Lease per shard, and one member Lease per replica (`edgefleet run --shards N`).

Each replica renews a member Lease (`<lease>-member-<hash>`) that tells its peers it is alive,
and campaigns for the shard Leases (`<lease>-shard-<i>`) with the rules of leader.py, one
elector (and thread) per shard, each every retry period, so a takeover is as quick as a
single leader's however many shards there are:
- a shard Lease it holds is renewed; it stops holding it when the renew deadline passes;
- a shard nobody holds (absent or released) is taken while this replica holds fewer than its
  fair share, ceil(N / live members);
- a shard whose holder stopped renewing it (unchanged for the lease duration) is taken at
  once, whatever the share: a dead replica's groups must not wait for the member count;
- above its fair share, it hands one shard back per round, but only while a live peer is
  actively renewing (within the renew deadline) and holds less than its share, and only
  between cycles (`quiet` is the worker's cycle lock), so no write of the released shard is
  in flight when a peer takes it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from functools import partial
from typing import Any

import orjson
from kubernetes import client

from reconciler.controller.leader import LeaderTiming, LeaseElector, LeaseRecord, Observation, observe
from reconciler.controller.sharding import fair_share, member_lease_name, shard_lease_name

log = logging.getLogger("edgefleet.shards")


class ShardElection:
    """The shards this replica holds. Quacks like `LeaseElector` for the daemon: `start`,
    `stop(release=)`, `is_leader()` (holds at least one shard); `holds(shard)` and
    `term(shard)` fence the writes of each shard."""

    def __init__(self, coordination: client.CoordinationV1Api, *, shards: int, name: str, namespace: str,
                 identity: str, timing: LeaderTiming, quiet: threading.Lock,
                 on_acquired: Callable[[int], None] = lambda shard: None,
                 on_released: Callable[[int], None] = lambda shard: None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.shards, self.namespace, self.identity = shards, namespace, identity
        self._api, self._timing, self._quiet = coordination, timing, quiet
        self._on_acquired, self._on_released = on_acquired, on_released
        self._clock = clock
        self._terms = [0] * shards
        self.electors = [
            LeaseElector(coordination, name=shard_lease_name(name, i), namespace=namespace,
                         identity=identity, timing=timing, on_started=partial(self._acquired, i),
                         on_stopped=partial(self._released, i), clock=clock, take_free=self._below_share)
            for i in range(shards)]
        self.member = LeaseElector(coordination, name=member_lease_name(name, identity),
                                   namespace=namespace, identity=identity, timing=timing, clock=clock)
        self._member_prefix = f"{name}-member-"
        self._members: dict[str, Observation] = {}
        self._share = shards  # alone until the member Leases say otherwise
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # ----- what the daemon asks -----

    def is_leader(self) -> bool:
        """True while this replica holds at least one shard."""
        return any([e.is_leader() for e in self.electors])

    def holds(self, shard: int) -> bool:
        """True while this replica holds a live Lease of `shard` (asked before every write)."""
        return self.electors[shard].is_leader()

    def held(self) -> list[int]:
        """The shards held now, in order."""
        return [i for i, e in enumerate(self.electors) if e.is_leader()]

    def term(self, shard: int) -> int:
        """How many times this replica acquired `shard`: a write must be in the term its
        cycle observed in (a shard lost and regained meanwhile may have been written by a peer)."""
        return self._terms[shard]

    def start(self) -> None:
        """Start campaigning: one thread per shard Lease (leader.py's loop), one for the
        member Lease and the hand-back."""
        self._thread = threading.Thread(target=self._run, name="shard-members", daemon=True)
        self._thread.start()
        for elector in self.electors:
            elector.start()

    def stop(self, *, release: bool = True) -> None:
        """Stop campaigning; with `release`, hand every shard back and withdraw the member Lease
        (False simulates a crash: they stay held until they expire)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self._timing.retry_period + 5)
        for elector in [*self.electors, self.member]:
            elector.stop(release=release)
        if release:
            self._withdraw()

    def live_members(self) -> int:
        """Replicas whose member Lease is alive on this replica's clock (itself included)."""
        now = self._now()
        live = {o.record.holder for o in self._members.values() if o.record is not None
                and o.record.holder and now < o.changed_at + o.record.lease_duration_seconds}
        return len(live | {self.identity})

    # ----- the loop -----

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.round()
            except Exception as exc:  # API down or odd answer: keep what we hold until it expires
                log.warning("shards: cannot read or write the member Leases: %s", exc)
            self._stop.wait(self._timing.retry_period)

    def round(self) -> None:
        """One pass of the member loop: renew the member Lease, count the live members (the
        shard threads take free shards below the fair share), hand back one shard above it
        (see module doc)."""
        self.member.try_once()
        self._read_members()
        share = self._share = fair_share(self.shards, self.live_members())
        held = self.held()
        if len(held) > share and self._peer_wants_a_shard(share) and self._quiet.acquire(blocking=False):
            try:
                shard = held[-1]
                log.info("shards: handing shard %d back (holding %d, fair share %d)", shard, len(held), share)
                self.electors[shard].release()
            finally:
                self._quiet.release()

    def _below_share(self) -> bool:
        return len(self.held()) < self._share

    def _peer_wants_a_shard(self, share: int) -> bool:
        now = self._now()
        holdings: dict[str, int] = {}
        for elector in self.electors:
            holder = elector.observed_holder()
            if holder:
                holdings[holder] = holdings.get(holder, 0) + 1
        return any(o.record is not None and o.record.holder and o.record.holder != self.identity
                   and now < o.changed_at + self._timing.renew_deadline
                   and holdings.get(o.record.holder, 0) < share
                   for o in self._members.values())

    def _read_members(self) -> None:
        answer: Any = self._api.list_namespaced_lease(self.namespace, _preload_content=False,
                                                 _request_timeout=self._timing.renew_deadline)
        now = self._now()
        seen: dict[str, Observation] = {}
        for item in orjson.loads(answer.data).get("items") or []:
            name = str(item["metadata"]["name"])
            if not name.startswith(self._member_prefix):
                continue
            spec = item.get("spec") or {}
            record = LeaseRecord(holder=spec.get("holderIdentity") or "",
                                 lease_duration_seconds=int(spec.get("leaseDurationSeconds") or 0),
                                 transitions=int(spec.get("leaseTransitions") or 0),
                                 resource_version=str(item["metadata"].get("resourceVersion", "")))
            seen[name] = observe(self._members.get(name, Observation(None, now)), record, now)
        self._members = seen

    def _withdraw(self) -> None:
        try:
            self._api.delete_namespaced_lease(self.member.name, self.namespace,
                                              _request_timeout=self._timing.renew_deadline)
        except Exception as exc:  # it expires by itself
            log.warning("shards: could not delete member Lease %s: %s", self.member.name, exc)

    def _acquired(self, shard: int) -> None:
        self._terms[shard] += 1
        log.info("shards: %s holds shard %d of %d", self.identity, shard, self.shards)
        self._on_acquired(shard)

    def _released(self, shard: int) -> None:
        self._on_released(shard)

    def _now(self) -> float:
        return self._clock()
