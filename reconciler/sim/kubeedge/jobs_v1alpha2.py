"""KubeEdge 1.21+ running ImagePrePullJobs against the store: the controller-manager
(finalizer, init, phase, 10 s timeout pass), CloudCore (executors, dispatch, upstream) and
EdgeCore (Check then Pull on the simulated edge node). The rules are the pure steps of
`taskmanager_v1alpha2`; this module only reads, schedules and writes.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial

from reconciler.sim.apiserver.errors import ApiError, Obj
from reconciler.sim.apiserver.resource_types import ResourceType
from reconciler.sim.clock import parse_rfc3339
from reconciler.sim.driver import Simulation
from reconciler.sim.kubeedge.edge import REPORT_LATENCY, run_check, simulate_pull
from reconciler.sim.kubeedge.fleet_runtime import EdgeFleet
from reconciler.sim.kubeedge.prepull import PrePullSpec, Switches, unreadable_timeout
from reconciler.sim.kubeedge.targets import JOBS, resolve_targets, secret_state
from reconciler.sim.kubeedge.taskmanager_v1alpha2 import (
    FINAL_PHASES,
    FINALIZER,
    TIMEOUT_CHECK_SECONDS,
    EdgeReport,
    Executor,
    apply_report,
    init_status,
    mark_dispatched,
    node_phase,
    recalculate,
    timeout_nodes,
)


class PrePullV1Alpha2:
    """Simulated KubeEdge 1.21+ for ImagePrePullJobs."""

    def __init__(self, sim: Simulation, fleet: EdgeFleet, switches: Switches) -> None:
        self.sim = sim
        self.fleet = fleet
        self.switches = switches
        self.executors: dict[str, Executor] = {}
        self.specs: dict[str, PrePullSpec] = {}  # spec snapshot per executor (edits ignored)
        self.log: list[str] = []  # what CloudCore and the controller-manager would log
        self._dirty: set[str] = set()
        self._active: set[str] = set()  # jobs the timeout ticker looks at
        self._unreadable: set[str] = set()  # uids of jobs already logged as undecodable
        sim.after(TIMEOUT_CHECK_SECONDS, self._timeout_tick)

    # ----- controller-manager -----

    def notify(self, event: str, rt: ResourceType, obj: Obj) -> None:
        if (rt.group, rt.plural) != JOBS or event == "BOOKMARK":
            return
        name = obj["metadata"]["name"]
        if event == "DELETED":
            # CloudCore's delete handler interrupts the executor whether or not the job
            # went through a deletionTimestamp first (finalizer removed by hand, or none yet)
            self._interrupt(name)
            self._active.discard(name)
            return
        if not self._dirty:
            self.sim.after(0, self._flush)
        self._dirty.add(name)

    def _flush(self, now: datetime) -> None:
        names, self._dirty = sorted(self._dirty), set()
        for name in names:
            self.reconcile(name, now)

    def _mutate(self, name: str, fn: Callable[[Obj], None], subresource: str | None) -> Obj | None:
        try:
            return self.sim.store.mutate(*JOBS, name, fn, subresource=subresource)
        except ApiError as exc:
            if exc.code == 404:
                return None
            raise

    def reconcile(self, name: str, now: datetime) -> None:
        """One controller-manager reconcile of job `name`, and CloudCore's reaction to it."""
        try:
            job = self.sim.store.get(*JOBS, name)
        except ApiError as exc:
            if exc.code == 404:
                return
            raise
        meta = job["metadata"]
        spec = PrePullSpec.from_job(job)
        broken = unreadable_timeout(spec, nil_breaks=False)
        if broken and self.switches.nil_or_negative_timeout_breaks_job:
            # the informers cannot decode the job: no controller ever sees it
            if meta.get("uid", "") not in self._unreadable:
                self._unreadable.add(meta.get("uid", ""))
                self.log.append(f"imageprepulljob {name}: not processed: {broken} "
                                "(docs/kubeedge.md §2.2, inferred)")
            return
        finalizers = list(meta.get("finalizers") or [])
        if meta.get("deletionTimestamp"):
            self._interrupt(name)
            self._active.discard(name)
            if FINALIZER in finalizers:
                self._mutate(name, _without_finalizer, None)
            return
        if FINALIZER not in finalizers:
            self._mutate(name, _with_finalizer, None)
            return
        status = job.get("status") or {}
        phase = status.get("phase", "")
        if phase == "":
            new = init_status(spec, resolve_targets(self.sim.store, spec))
            self._mutate(name, _status_fn(lambda s: new if not s.get("phase") else s), "status")
            return
        if phase in FINAL_PHASES:
            self._active.discard(name)
            return
        self._active.add(name)
        if phase == "Init":
            self._pick_up(job, spec, now)
        self._mutate(name, _status_fn(lambda s: recalculate(s, spec) or s), "status")

    def _timeout_tick(self, now: datetime) -> None:
        for name in sorted(self._active):
            try:
                job = self.sim.store.get(*JOBS, name)
            except ApiError:
                self._active.discard(name)
                continue
            spec = PrePullSpec.from_job(job)
            created = parse_rfc3339(job["metadata"]["creationTimestamp"])
            late: list[str] = []

            def expire(status: Obj, spec: PrePullSpec = spec, created: datetime = created,
                       late: list[str] = late) -> Obj:
                new, nodes = timeout_nodes(status, spec, created, now)
                late.extend(nodes)
                return new if new is not None else status

            self._mutate(name, _status_fn(expire), "status")
            if not late:
                continue
            self.log.append(f"imageprepulljob {name}: nodes timed out: {', '.join(late)}")
            executor = self.executors.get(name)
            if executor is not None and executor.uid == job["metadata"].get("uid"):
                for node in late:
                    executor.timed_out(node)
                self._dispatch(executor, now)
        self.sim.after(TIMEOUT_CHECK_SECONDS, self._timeout_tick)

    # ----- CloudCore -----

    def _pick_up(self, job: Obj, spec: PrePullSpec, now: datetime) -> None:
        name, uid = job["metadata"]["name"], job["metadata"].get("uid", "")
        current = self.executors.get(name)
        if current is not None and current.uid == uid:
            return  # another event for the job being run
        if current is not None and self.switches.skip_already_running:
            self.log.append(f"imageprepulljob {name}: executor already running, skipped")
            return
        executor = Executor.for_status(name, uid, job.get("status") or {}, spec.concurrency,
                                       self.switches.wedge_on_silent_node)
        self.executors[name] = executor
        self.specs[name] = spec
        self._dispatch(executor, now)

    def _interrupt(self, name: str) -> None:
        executor = self.executors.get(name)
        if executor is None:
            return
        executor.interrupted = True
        # A wedged executor's goroutine never returns, so it stays in the map (#7049).
        if executor.finished or not (self.switches.wedge_on_silent_node and executor.running):
            self.executors.pop(name, None)

    def _dispatch(self, executor: Executor, now: datetime) -> None:
        while True:
            batch = executor.take()
            if not batch:
                break
            for node in batch:
                if not self._still_pending(executor, node):
                    executor.release(node)  # timed out while queued: never sent
                    continue
                edge = self.fleet.edges.get(node)
                connected = edge is not None and edge.ready
                self._mutate(executor.job, _own_status_fn(executor.uid, partial(
                    mark_dispatched, node=node, connected=connected)), "status")
                if not connected:
                    executor.release(node)
                elif edge is not None and edge.answers:
                    self.sim.after(REPORT_LATENCY, self._edge_check(executor, node))
        if executor.finished and self.executors.get(executor.job) is executor:
            del self.executors[executor.job]

    def _still_pending(self, executor: Executor, node: str) -> bool:
        """Whether `node` is still Pending in the executor's job (True when the job is gone
        or replaced: the executor then sends blindly, as CloudCore does)."""
        try:
            job = self.sim.store.get(*JOBS, executor.job)
        except ApiError as exc:
            if exc.code == 404:
                return True
            raise
        if job["metadata"].get("uid") != executor.uid:
            return True
        return node_phase(job.get("status") or {}, node) == "Pending"

    # ----- EdgeCore -----

    def _edge_check(self, executor: Executor, node: str) -> Callable[[datetime], None]:
        spec = self.specs[executor.job]

        def check(now: datetime) -> None:
            edge = self.fleet.edges.get(node)
            if edge is None or not edge.answers:
                return  # the message or the node is gone: the node task times out
            ok, reason = run_check(edge, spec.check_items, unknown_fails=True)
            self._upstream(executor, EdgeReport(node, "Check", ok, now, reason))
            if not ok:
                return
            retry = spec.retry_times
            if retry < 0 and not self.switches.retry_minus_one_silent_success:
                retry = 0
            outcome = simulate_pull(edge, spec.images, self.fleet.catalogue,
                                    secret=spec.image_secret,
                                    secret_state=secret_state(
                                        self.sim.store, spec.image_secret,
                                        auths_yield_no_credentials=(
                                            self.switches.dockerconfig_auths_yields_no_credentials)),
                                    attempts=max(0, retry + 1), whole_list=True)
            for offset, image in outcome.arrivals:
                self.sim.at(now + timedelta(seconds=offset), partial(self.fleet.land, node, image))
            reason = outcome.reason or ("" if outcome.ok else "there were some failures when pulling images")
            report = EdgeReport(node, "Pull", outcome.ok, now + timedelta(seconds=outcome.seconds),
                                reason, outcome.results)
            self.sim.at(report.time, lambda when: self._deliver(executor, report))

        return check

    def _deliver(self, executor: Executor, report: EdgeReport) -> None:
        edge = self.fleet.edges.get(report.node)
        if edge is None or not edge.answers:
            return  # reports are sent without ACK: lost while disconnected
        self._upstream(executor, report)

    def _upstream(self, executor: Executor, report: EdgeReport) -> None:
        def fold(obj: Obj) -> None:
            if obj["metadata"].get("uid") == executor.uid:
                obj["status"] = apply_report(obj.get("status") or {}, report)

        self._mutate(executor.job, fold, "status")
        if report.final:
            executor.release(report.node)
            self._dispatch(executor, report.time)


def _with_finalizer(obj: Obj) -> None:
    obj["metadata"]["finalizers"] = [*obj["metadata"].get("finalizers", []), FINALIZER]


def _without_finalizer(obj: Obj) -> None:
    obj["metadata"]["finalizers"] = [f for f in obj["metadata"].get("finalizers", []) if f != FINALIZER]


def _own_status_fn(uid: str, step: Callable[[Obj], Obj]) -> Callable[[Obj], None]:
    """As `_status_fn`, for the job with `uid` only (not a re-created one of the same name)."""
    def write(obj: Obj) -> None:
        if obj["metadata"].get("uid") == uid:
            obj["status"] = step(obj.get("status") or {})

    return write


def _status_fn(step: Callable[[Obj], Obj]) -> Callable[[Obj], None]:
    def write(obj: Obj) -> None:
        obj["status"] = step(obj.get("status") or {})

    return write

