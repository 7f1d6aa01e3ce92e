"""The controller's Prometheus metrics, registered on a registry the caller passes.

No default global registry (STYLE.md: no ambient state), so two controllers in one test process
never share counters.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info

from reconciler.controller.rollout_metrics import RolloutMetrics
from reconciler.controller.view import CycleView

PAIR_STATES = ("desired", "present", "missing", "in_flight", "backing_off", "failed")


class ControllerMetrics:
    """Every metric `edgefleet run` exports, and how a finished cycle updates them."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.reconcile_duration = Histogram(
            "edgefleet_reconcile_duration_seconds", "Wall time of one reconcile cycle, by outcome.",
            ["outcome"], registry=registry,
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300))
        self.reconciles = Counter(
            "edgefleet_reconciles_total", "Reconcile cycles run, by outcome.", ["outcome"],
            registry=registry)
        self.pairs = Gauge(
            "edgefleet_group_pairs", "(node, image) pairs per group after the last cycle, by state.",
            ["group", "state"], registry=registry)
        self.jobs = Gauge(
            "edgefleet_jobs", "Managed ImagePrePullJobs by phase, as the last cycle saw them.",
            ["phase"], registry=registry)
        self.nodes_deferred = Gauge(
            "edgefleet_nodes_deferred", "Nodes the last plan did not target (not Ready, ...).",
            registry=registry)
        self.pairs_failing = Gauge(
            "edgefleet_pairs_failing", "(node, image) pairs that reached the retry limit.",
            registry=registry)
        self.agent = Gauge(
            "edgefleet_agent_inventory", "Edge agent reports as the last plan used them "
            "(docs/agent.md): nodes by report state, and pairs found evicted by edge image GC.",
            ["what"], registry=registry)
        self.api_requests = Counter(
            "edgefleet_api_requests_total", "Requests sent to the Kubernetes API, by verb and code "
            "(code 0: no answer).", ["verb", "code"], registry=registry)
        self.revision = Info(
            "edgefleet_git_revision", "The git revision in force and the newest one fetched.",
            registry=registry)
        self.revision_failing = Gauge(
            "edgefleet_revision_load_failing", "1 while the newest revision fails to load and an "
            "older one stays in force.", registry=registry)
        self.last_success = Gauge(
            "edgefleet_last_successful_reconcile_timestamp_seconds",
            "Unix time of the last reconcile cycle that succeeded.", registry=registry)
        self.leader = Gauge(
            "edgefleet_leader", "1 while this replica holds the leader Lease.", registry=registry)
        self.jobs_written = Counter(
            "edgefleet_job_writes_total", "ImagePrePullJobs created and deleted, by action.",
            ["action"], registry=registry)
        self.webhooks = Counter(
            "edgefleet_webhook_requests_total", "Git webhook requests, by result.", ["result"],
            registry=registry)
        self.webhook_events_ignored = Counter(
            "edgefleet_webhook_ignored_events_total", "Signed webhook requests that are no push "
            "(nothing fetched), by forge and event ('none': no event header).", ["forge", "event"],
            registry=registry)
        self.rollouts = RolloutMetrics(registry)  # edgefleet_rollout_*, set from each plan

    def record_cycle(self, view: CycleView) -> None:
        """Update the per-cycle metrics from a finished cycle."""
        self.reconcile_duration.labels(view.outcome).observe(view.duration)
        self.reconciles.labels(view.outcome).inc()
        self.jobs_written.labels("create").inc(view.jobs_created)
        self.jobs_written.labels("delete").inc(view.jobs_deleted)
        if view.succeeded:
            self.last_success.set(view.finished_at.timestamp())
        self.revision.info({"in_force": view.revision_in_force or "",
                            "seen": view.revision_seen or view.revision_in_force or ""})
        self.revision_failing.set(1 if view.revision_error else 0)
        if not view.groups and not view.succeeded:
            return  # a failed cycle that observed nothing: keep the last known numbers
        # Groups come and go with commits: drop series of groups that no longer exist.
        self.pairs.clear()
        for group in view.groups:
            values = (group.desired, group.present, group.missing, group.in_flight,
                      group.backing_off, group.failed)
            for state, value in zip(PAIR_STATES, values, strict=True):
                self.pairs.labels(group.name, state).set(value)
        self.jobs.clear()
        for phase, count in view.jobs_by_phase:
            self.jobs.labels(phase).set(count)
        self.nodes_deferred.set(len(view.deferred))
        self.pairs_failing.set(len(view.failing))
        self.agent.clear()
        for what, value in view.agent:  # nodesWithReport, nodesStale, pairsEvicted, ...
            self.agent.labels(what).set(value)
