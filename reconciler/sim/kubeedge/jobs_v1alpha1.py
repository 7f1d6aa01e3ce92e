"""KubeEdge 1.16-1.20 running ImagePrePullJobs against the store: CloudCore's v1alpha1
executor (stage barrier, concurrency, per-node per-stage timeout, failure tolerance) and the
edge's Init/Check/Pull handlers. The rules are in `taskmanager_v1alpha1`; this module reads,
schedules and writes. No finalizer; spec edits and status edits by others are ignored.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial

from reconciler.sim.apiserver.errors import ApiError, Obj
from reconciler.sim.apiserver.resource_types import ResourceType
from reconciler.sim.driver import Simulation
from reconciler.sim.kubeedge.edge import (
    REPORT_LATENCY,
    USABLE_SECRET_STATES,
    run_check,
    secret_error,
    simulate_pull,
)
from reconciler.sim.kubeedge.fleet_runtime import EdgeFleet
from reconciler.sim.kubeedge.prepull import PrePullSpec, Switches, unreadable_timeout
from reconciler.sim.kubeedge.targets import JOBS, resolve_targets, secret_state
from reconciler.sim.kubeedge.taskmanager_v1alpha1 import FINAL_STATES, V1Executor, eligible_nodes

Report = tuple[str, str, str, list[Obj] | None]  # (event, action, reason, imageStatus)


class PrePullV1Alpha1:
    """Simulated KubeEdge 1.16-1.20 for ImagePrePullJobs."""

    def __init__(self, sim: Simulation, fleet: EdgeFleet, switches: Switches) -> None:
        self.sim = sim
        self.fleet = fleet
        self.switches = switches
        self.executors: dict[str, V1Executor] = {}
        self.specs: dict[str, PrePullSpec] = {}
        self.log: list[str] = []

    def notify(self, event: str, rt: ResourceType, obj: Obj) -> None:
        if (rt.group, rt.plural) != JOBS:
            return
        meta = obj["metadata"]
        name = meta["name"]
        if event == "DELETED":
            # Only the in-memory executor goes; pulls already sent go on at the edge.
            ex = self.executors.get(name)
            if ex is not None and ex.uid == meta.get("uid"):
                del self.executors[name]
            return
        if event != "ADDED" or name in self.executors:
            return  # v1alpha1 reacts to new jobs only; spec edits are ignored
        if (obj.get("status") or {}).get("state") in FINAL_STATES:
            return
        self.sim.after(0, lambda now: self._start(name, meta.get("uid", ""), now))

    def _start(self, name: str, uid: str, now: datetime) -> None:
        try:
            job = self.sim.store.get(*JOBS, name)
        except ApiError:
            return
        if job["metadata"].get("uid") != uid:
            return
        spec = PrePullSpec.from_job(job)
        broken = unreadable_timeout(spec, nil_breaks=True)
        if broken and self.switches.nil_or_negative_timeout_breaks_job:
            self.log.append(f"imageprepulljob {name}: not processed: {broken} "
                            "(docs/kubeedge.md §2.2, inferred)")
            return
        nodes = eligible_nodes(spec, resolve_targets(self.sim.store, spec))
        if nodes is None:
            # kubeedge#5531: the error goes to the log only; no status is written.
            self.log.append(f"imageprepulljob {name}: no node need to be upgrade")
            return
        ex = V1Executor.start(name, uid, spec, nodes)
        self.executors[name] = ex
        self.specs[name] = spec
        self._dispatch(ex, now)

    def _write(self, ex: V1Executor, step: Callable[[Obj], Obj]) -> None:
        def fn(obj: Obj) -> None:
            if obj["metadata"].get("uid") == ex.uid:
                obj["status"] = step(obj.get("status") or {})

        try:
            self.sim.store.mutate(*JOBS, ex.job, fn, subresource="status")
        except ApiError as exc:
            if exc.code != 404:
                raise

    def _dispatch(self, ex: V1Executor, now: datetime) -> None:
        for node in ex.take(now):
            stage = ex.stage
            self.sim.after(REPORT_LATENCY, partial(self._edge, ex, node, stage))
            self.sim.at(ex.running[node], lambda when: self._expire(ex, when))
        if ex.finished and self.executors.get(ex.job) is ex:
            del self.executors[ex.job]

    def _expire(self, ex: V1Executor, now: datetime) -> None:
        if ex.finished:
            return
        late: list[str] = []

        def step(status: Obj) -> Obj:
            new, nodes = ex.expire(status, now)
            late.extend(nodes)
            return new

        self._write(ex, step)
        if late:
            self.log.append(f"imageprepulljob {ex.job}: nodes timed out: {', '.join(late)}")
            self._dispatch(ex, now)

    # ----- edge -----

    def _edge(self, ex: V1Executor, node: str, stage: int, now: datetime) -> None:
        edge = self.fleet.edges.get(node)
        if edge is None or not edge.answers:
            return  # fire-and-forget: the node times out
        spec = self.specs[ex.job]
        event = ("Init", "Check", "Pull")[stage]
        if event == "Init":
            self._report(ex, node, ("Init", "Success", "", None), now)
        elif event == "Check":
            ok, reason = run_check(edge, spec.check_items, unknown_fails=False)
            self._report(ex, node, ("Check", "Success" if ok else "Failure", reason, None), now)
        else:
            self._pull(ex, node, spec, now)

    def _pull(self, ex: V1Executor, node: str, spec: PrePullSpec, now: datetime) -> None:
        edge = self.fleet.edges[node]
        state = secret_state(self.sim.store, spec.image_secret, auths_yield_no_credentials=(
            self.switches.dockerconfig_auths_yields_no_credentials))
        if state not in USABLE_SECRET_STATES:
            if self.switches.v1alpha1_secret_silent_success:
                # makeAuthConfig's error is dropped: success with zero imageStatus entries.
                self._report(ex, node, ("Pull", "Success", "", []), now)
            else:
                reason = secret_error(spec.image_secret, state)
                self._report(ex, node, ("Pull", "Failure", reason, []), now)
            return
        retry = spec.retry_times
        if retry < 0 and not self.switches.retry_minus_one_silent_success:
            retry = 0
        outcome = simulate_pull(edge, spec.images, self.fleet.catalogue, secret=spec.image_secret,
                                secret_state=state, attempts=max(0, retry + 1), whole_list=False)
        for offset, image in outcome.arrivals:
            self.sim.at(now + timedelta(seconds=offset), partial(self.fleet.land, node, image))
        images: list[Obj] = [
            {"image": r.image, "state": "Successful" if r.ok else "Failed",
             **({"reason": r.reason} if r.reason else {})}
            for r in outcome.results]
        failed = [r for r in outcome.results if not r.ok]
        reason = f"pull image failed, err: {failed[-1].reason}" if failed else ""
        report: Report = ("Pull", "Success" if outcome.ok else "Failure", reason, images)
        self.sim.after(outcome.seconds, lambda when: self._report(ex, node, report, when))

    def _report(self, ex: V1Executor, node: str, report: Report, now: datetime) -> None:
        edge = self.fleet.edges.get(node)
        if edge is None or not edge.answers or self.executors.get(ex.job) is not ex:
            return
        event, action, reason, images = report
        self._write(ex, lambda status: ex.report(status, node, event, action, reason, images, now))
        self._dispatch(ex, now)
