"""The cluster as the daemon's cycles see it with watch caches: `observe` answers from the
caches (caches.py) instead of listing, and `apply` records what its writes must look like in
them (expectations.py). Same interface and the same facts as `kube.LiveCluster`, so
`sync_once` and the planner run unchanged; `edgefleet sync` and `plan` keep listing.

`observe` falls back to a full LIST (LiveCluster.observe), which is authoritative, when:
- no full read happened yet, or the last is older than `full_read_every` (discovery, the
  job dialect and pull secrets are re-checked then: they are not watched);
- a cache is not synced yet, or holds an object it could not decode;
- the caches still lag behind this replica's own writes after `lag_wait` seconds.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

from reconciler.controller.caches import FactCache, WatchCaches
from reconciler.controller.expectations import Expectations, Expected, describe
from reconciler.kube.applying import ApplyReport
from reconciler.kube.cluster import LiveCluster
from reconciler.kube.reading import existing_secrets
from reconciler.kube.rollouts import read_rollouts
from reconciler.kube.session import Session
from reconciler.observed import ClusterFacts
from reconciler.planner.model import Plan

log = logging.getLogger("edgefleet.cache")

#: How long a cycle waits for its previous writes to show in the caches (they normally do in
#: milliseconds) before it lists instead.
LAG_WAIT_SECONDS = 2.0


class CachedCluster(LiveCluster):
    """`LiveCluster` whose `observe` reads the watch caches. Counters (`cache_reads`,
    `full_reads`, `lag_fallbacks`) are for tests, the bench and logs."""

    def __init__(self, session: Session, caches: WatchCaches, *, lag_wait: float = LAG_WAIT_SECONDS,
                 full_read_every: float = 600.0, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(session)
        self.caches = caches
        self.expectations = Expectations()
        self._lag_wait, self._full_read_every, self._clock = lag_wait, full_read_every, clock
        self._dialect: tuple[str, bool] | None = None  # (job apiVersion, inventory CRD served)
        self._known_secrets: frozenset[str] = frozenset()
        self._last_full: float | None = None
        self.cache_reads = self.full_reads = self.lag_fallbacks = 0

    def observe(self, *, secrets: Iterable[str] = ()) -> ClusterFacts:
        """The cluster's facts, from the caches when they can be trusted (see module doc)."""
        refs = frozenset(secrets)
        reason = self._why_list()
        if reason is None and (unmet := self._wait_for_own_writes()):
            self.lag_fallbacks += 1
            reason = f"the watch caches lag behind this replica's writes ({describe(unmet)})"
        if reason is not None:
            return self._full_read(refs, reason)
        assert self._dialect is not None
        api_version, inventory_served = self._dialect
        caches = self.caches
        self.rollouts = ({r.group: r for r in caches.rollouts.values()} if caches.rollouts.synced
                         else read_rollouts(self.session))  # the FleetRollout CRD may be absent
        self._facts = ClusterFacts(
            caches.nodes.values(), caches.jobs.values(),
            caches.inventories.values() if inventory_served else (), api_version, inventory_served,
            secrets=self._secrets(refs) if refs else None)
        self.cache_reads += 1
        return self._facts

    def apply(self, plan: Plan, *, dry_run: bool) -> ApplyReport:
        """LiveCluster.apply, then expect its writes in the caches before planning again."""
        report = super().apply(plan, dry_run=dry_run)
        if not dry_run:
            now = self._clock()
            self.expectations.expect_jobs(created=report.created + report.already_existed,
                                          deleted=report.deleted + report.already_gone, at=now)
            planned_from = {u.node: (u.resource_version if u.exists else "")
                            for u in plan.inventory_updates}
            self.expectations.expect_inventories(report.inventories, planned_from, at=now)
        return report

    def _why_list(self) -> str | None:
        if self._dialect is None or self._last_full is None:
            return "first read"
        if self._clock() - self._last_full >= self._full_read_every:
            return "periodic full read"
        needed: list[FactCache[Any]] = [self.caches.nodes, self.caches.jobs]
        if self._dialect[1]:
            needed.append(self.caches.inventories)
        if unsynced := [c.resource for c in needed if not c.synced]:
            return f"watch cache of {', '.join(unsynced)} not synced yet"
        if broken := [c.resource for c in self.caches.all() if c.broken]:
            return f"watch cache of {', '.join(broken)} holds an object that did not decode"
        return None

    def _wait_for_own_writes(self) -> list[Expected]:
        jobs, inventories = self.caches.jobs, self.caches.inventories

        def version(name: str) -> str | None:
            inventory = inventories.get(name)
            return inventory.resource_version if inventory is not None else None

        def present(name: str) -> bool:
            # A job being deleted (a finalizer pending) counts as gone: that is what we asked.
            job = jobs.get(name)
            return job is not None and job.metadata.deletion_timestamp is None

        def unmet() -> list[Expected]:
            return self.expectations.unmet(present, version, now=self._clock())

        if not self.expectations or self.caches.wait_for(lambda: not unmet(), self._lag_wait):
            return []
        return unmet()

    def _full_read(self, refs: frozenset[str], reason: str) -> ClusterFacts:
        log.info("observe by listing: %s", reason)
        facts = super().observe(secrets=refs)
        self._dialect = (facts.job_api_version, facts.inventory_served)
        self._known_secrets = facts.secrets or frozenset()
        self._last_full = self._clock()
        self.full_reads += 1
        return facts

    def _secrets(self, refs: frozenset[str]) -> frozenset[str]:
        # Secrets are not watched (a watch would carry their contents). One found stays known
        # until the next full read; one not found is asked again every cycle.
        unknown = refs - self._known_secrets
        if unknown:
            self._known_secrets |= existing_secrets(self.session, unknown)
        return refs & self._known_secrets


def cycle_cluster(session: Session, caches: WatchCaches | None, *, full_read_every: float) -> LiveCluster:
    """The cluster the daemon's cycles observe and write: from `caches` when given, else by
    listing every cycle (`edgefleet run --no-watch-cache`)."""
    if caches is None:
        return LiveCluster(session)
    return CachedCluster(session, caches, full_read_every=full_read_every)
