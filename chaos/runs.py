"""The chaos runs on the embedded cluster: convergence under injected API faults, and a row of
bad commits (a force-push backwards among them). Each returns its figures as {name: value};
those chaos.__main__ names must be 0."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pygit2

from chaos.fleet import UNMANAGED_JOB, chaos_fleet, converged, wait_until
from reconciler.cli.demo_change import find_bump
from reconciler.cli.demo_git import ServedFleetRepository
from reconciler.controller.daemon import Controller
from reconciler.cycle.sync import SyncSettings
from reconciler.planner import PlannerSettings
from reconciler.sim.apiserver.faults import Faults

JOBS = "imageprepulljobs"


@dataclass(frozen=True)
class FaultProfile:
    """What the API server injects while the fleet converges (issue 14's list)."""

    error_rate: float = 0.10  # 5xx
    throttle_rate: float = 0.05  # 429 with Retry-After
    retry_after: int = 1
    latency: float = 0.2
    drop_watch_after_seconds: float = 30.0
    gone_on_resume: float = 0.3  # 410 on resume

    def apply(self, faults: Faults) -> None:
        faults.error_rate, faults.throttle_rate = self.error_rate, self.throttle_rate
        faults.retry_after, faults.latency = self.retry_after, self.latency
        faults.drop_watch_after_seconds = self.drop_watch_after_seconds
        faults.gone_on_resume = self.gone_on_resume


def faults_run(tmp: Path, *, nodes: int, speed: float, profile: FaultProfile, timeout: float,
               seed: int = 5) -> dict[str, float]:
    """Converge fleet-examples on `nodes` simulated nodes while `profile` is injected."""
    with chaos_fleet(tmp, nodes=nodes, speed=speed, seed=seed) as fleet:
        server = fleet.cluster.server
        assert server is not None
        profile.apply(fleet.cluster.faults)
        started = time.monotonic()
        controller, session = fleet.controller()
        try:
            done = wait_until(lambda: converged(controller), timeout, interval=0.5)
            seconds = time.monotonic() - started
        finally:
            fleet.cluster.faults.reset()
            controller.stop()
            session.close()
        injected = dict(fleet.cluster.faults.injected)
        creates = server.counts.creates_of(JOBS)
        added, _, duplicates, wrongful = fleet.ledger.snapshot()
        still_there = UNMANAGED_JOB in fleet.ledger.live
    return {
        "faults: converged (1 = yes)": 1.0 if done else 0.0,
        "faults: seconds to converge": round(seconds, 1),
        "faults: jobs created": float(added - 1),
        "faults: injected 5xx / 429 / dropped watches / 410": float(sum(
            injected.get(k, 0) for k in ("error", "throttle", "drop", "gone"))),
        "faults: duplicate jobs": float(duplicates),
        "faults: job created twice (409)": float(sum(n - 1 for n in creates.values() if n > 1)),
        "faults: wrongful deletions": float(wrongful + (0 if still_there else 1)),
        "faults: not converged": 0.0 if done else 1.0,
    }


def bad_commits_run(tmp: Path, *, nodes: int, speed: float, timeout: float,
                    seed: int = 6) -> dict[str, float]:
    """Converge, push a good change (a bumped image), then invalid YAML, a schema error, an
    empty desired state and a force-push back to the first revision in a row: the good change
    stays in force and nothing is deleted meanwhile."""
    with chaos_fleet(tmp, nodes=nodes, speed=speed, seed=seed) as fleet:
        # Finished jobs are not collected during the run (the default 1 h TTL passes within it
        # at 60x), so that every deletion counted here is one a bad commit would have caused.
        controller, session = fleet.controller(sync=SyncSettings(planner=PlannerSettings(
            ttl_after_finished=timedelta(days=365))))
        kept = refused = 0
        try:
            if not wait_until(lambda: converged(controller), timeout, interval=0.5):
                return {"bad commits: converged first (1 = yes)": 0.0, "bad commits: not converged": 1.0}
            last = controller.state.snapshot().last
            assert last is not None and last.revision_in_force is not None
            first = last.revision_in_force
            bump = find_bump(fleet.repo.work)
            good = fleet.repo.commit(bump.path, bump.content, f"bump {bump.new}")
            fleet.repo.push()
            if not wait_until(lambda: _in_force(controller) == good, timeout):
                return {"bad commits: good change in force (1 = yes)": 0.0, "bad commits: not converged": 1.0}
            _, deleted_before, _, _ = fleet.ledger.snapshot()
            for push in _bad_commits(fleet.repo, first):  # one at a time; the 1 s git poll sees each
                revision = push()

                def seen(revision: str = revision) -> bool:
                    view = controller.state.snapshot().last
                    return view is not None and view.revision_seen == revision and bool(view.revision_error)

                refused += wait_until(seen, timeout)
                view = controller.state.snapshot().last
                kept += view is not None and view.revision_in_force == good
            _, deleted_after, _, wrongful = fleet.ledger.snapshot()
        finally:
            controller.stop()
            session.close()
    return {
        "bad commits: refused (of 4)": float(refused),
        "bad commits: last good kept (of 4)": float(kept),
        "bad commits: deletions": float(deleted_after - deleted_before),
        "bad commits: wrongful deletions": float(wrongful),
        "bad commits: not refused or not kept": float(8 - refused - kept),
    }


def _in_force(controller: Controller) -> str | None:
    view = controller.state.snapshot().last
    return view.revision_in_force if view is not None else None


def _bad_commits(repo: ServedFleetRepository, older: str) -> list[Callable[[], str]]:
    """Each call commits and pushes the next bad revision and returns its sha; the last one
    resets the served branch to `older` (what `git push --force` of a stale branch does)."""
    def commit(relative: str, content: str, message: str) -> Callable[[], str]:
        def push() -> str:
            revision = repo.commit(relative, content, message)
            repo.push()
            return revision
        return push

    def empty() -> str:
        subprocess.run(["git", "rm", "-q", "-r", "groups"], cwd=repo.work, check=True)
        subprocess.run(["git", "commit", "-q", "-m", "no group left"], cwd=repo.work, check=True)
        repo.push()
        return repo.head()

    def force_push() -> str:
        served = pygit2.Repository(str(repo.bare))
        served.references[f"refs/heads/{repo.branch}"].set_target(older)
        return older

    return [
        commit("groups/broken.yaml", "apiVersion: [unclosed\n", "invalid YAML"),
        commit("groups/broken.yaml", (
            "apiVersion: edgefleet.io/v1alpha1\nkind: NodeGroupImages\nmetadata: {name: broken}\n"
            "spec:\n  nodes: {names: [x]}\n  images: [nginx]\n  colour: blue\n"), "a schema error"),
        empty,
        force_push,
    ]
