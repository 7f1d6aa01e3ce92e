"""A group's rollout progress: which waves are open, and whether it halted. Pure.

Rules (docs/rollout.md): a new rollout (new desired images) starts at wave 0. The open wave is
*done* when each of its nodes (and of the waves before it) holds the group's images, failed to
pull them, or is not Ready. A done wave starts its pause (`pauseAfterWave`); when the pause has
passed the next wave opens (a wave without nodes opens the next at once). The failure budget is
checked on every pass: when failed nodes (beyond those `rollout resume` accepted) exceed the
budget share of the nodes tried (done + failed), the rollout halts until a new commit or a
resume. A paused rollout (FleetRollout spec.paused) opens no wave.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import NamedTuple

from reconciler.inventory import parse_time
from reconciler.manifests.rollout_policy import RolloutPolicy
from reconciler.observed.rollouts import RolloutFacts
from reconciler.planner.rollout.model import RolloutStatus


class NodeState(NamedTuple):
    """How one node of the group stands with the group's images (a NamedTuple: one per node)."""

    wave: int
    done: bool  # holds every image the group owns on it
    failed: bool  # not done, and a pull of one of them failed
    ready: bool


def _when(text: str) -> datetime | None:
    return parse_time(text) if text else None


def progress(group: str, policy: RolloutPolicy, rollout: str, states: dict[str, NodeState],
             waves: int, record: RolloutFacts | None, *, now: datetime) -> RolloutStatus:
    """The rollout's status after this pass, from the node states and the last recorded one."""
    status = record.status if record is not None else None
    same = status is not None and status.rollout_id == rollout
    wave = min(status.wave, waves - 1) if status is not None and same else 0
    started = (_when(status.started) if status is not None and same else None) or now
    done_at = _when(status.wave_done_at) if status is not None and same else None
    halted = status.halted if status is not None and same else ""
    accepted = status.accepted_failures if status is not None and same else 0
    paused = record.spec.paused if record is not None else False
    sizes = [0] * waves
    settled = [0] * waves
    done = [0] * waves
    failed = [0] * waves
    for state in states.values():
        sizes[state.wave] += 1
        done[state.wave] += state.done
        failed[state.wave] += state.failed
        settled[state.wave] += state.done or state.failed or not state.ready
    next_at: datetime | None = None
    while True:
        tried = sum(done[: wave + 1]) + sum(failed[: wave + 1])
        counted = sum(failed[: wave + 1]) - accepted
        if not halted and counted > 0 and counted > policy.failure_budget * tried:
            halted = (f"{counted} of {tried} nodes tried failed, over the failure budget of "
                      f"{policy.failure_budget * 100:.1f}%")
        if halted or paused:
            break
        if sum(settled[: wave + 1]) < sum(sizes[: wave + 1]):
            done_at = None  # a late joiner or a retry un-settles the wave: its pause restarts
            break
        if wave == waves - 1:
            break
        done_at = done_at or now
        opens = done_at + timedelta(seconds=policy.pause_seconds)
        if sizes[wave] and now < opens:
            next_at = opens
            break
        wave, done_at = wave + 1, None
    open_done, open_failed = sum(done[: wave + 1]), sum(failed[: wave + 1])
    return RolloutStatus(
        group=group, rollout_id=rollout, wave=wave, wave_sizes=tuple(sizes), started=started,
        wave_done_at=done_at, halted=halted, paused=paused, accepted_failures=accepted,
        budget=policy.failure_budget, total=sum(sizes[: wave + 1]), done=open_done,
        failed=open_failed, next_step=_next_step(wave, waves, sizes, settled, halted, paused, next_at),
        next_at=next_at,
    )


def _next_step(wave: int, waves: int, sizes: list[int], settled: list[int], halted: str,
               paused: bool, next_at: datetime | None) -> str:
    if halted:
        return f"halted: {halted}; `edgefleet rollout resume` or a new commit continues"
    if paused:
        return "paused: `edgefleet rollout resume` continues"
    open_settled, open_size = sum(settled[: wave + 1]), sum(sizes[: wave + 1])
    if wave == waves - 1 and open_settled == open_size:
        return "complete"
    if next_at is not None:
        return f"wave {wave + 1} ({sizes[wave + 1]} nodes) opens after the pause"
    return f"wave {wave}: {open_settled} of {open_size} nodes settled"
