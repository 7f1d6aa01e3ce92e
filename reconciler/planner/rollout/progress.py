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

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import NamedTuple

from reconciler.inventory import parse_time
from reconciler.manifests.rollout_policy import RolloutPolicy
from reconciler.observed.rollouts import RolloutFacts
from reconciler.planner.rollout.model import RolloutStatus


class WaveCounts(NamedTuple):
    """The nodes of one wave that hold the group's images (done), failed to pull one of them
    (failed), and that are done, failed or not Ready (settled)."""

    done: int
    failed: int
    settled: int


def _when(text: str) -> datetime | None:
    return parse_time(text) if text else None


def progress(group: str, policy: RolloutPolicy, rollout: str, sizes: list[int],
             count: Callable[[int], WaveCounts], record: RolloutFacts | None, *,
             now: datetime) -> RolloutStatus:
    """The rollout's status after this pass: `sizes` are the node counts per wave, `count`
    gives a wave's counts (asked only for the waves that are or become open)."""
    waves = len(sizes)
    status = record.status if record is not None else None
    same = status is not None and status.rollout_id == rollout
    wave = min(status.wave, waves - 1) if status is not None and same else 0
    started = (_when(status.started) if status is not None and same else None) or now
    done_at = _when(status.wave_done_at) if status is not None and same else None
    halted = status.halted if status is not None and same else ""
    accepted = status.accepted_failures if status is not None and same else 0
    paused = record.spec.paused if record is not None else False
    counted_waves: list[WaveCounts] = []

    def upto(last: int) -> list[WaveCounts]:
        while len(counted_waves) <= last:
            counted_waves.append(count(len(counted_waves)))
        return counted_waves[: last + 1]

    next_at: datetime | None = None
    while True:
        opened = upto(wave)
        tried = sum(c.done + c.failed for c in opened)
        counted = sum(c.failed for c in opened) - accepted
        if not halted and counted > 0 and counted > policy.failure_budget * tried:
            halted = (f"{counted} of {tried} nodes tried failed, over the failure budget of "
                      f"{policy.failure_budget * 100:.1f}%")
        if halted or paused:
            break
        if sum(c.settled for c in opened) < sum(sizes[: wave + 1]):
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
    opened = upto(wave)
    open_done, open_failed = sum(c.done for c in opened), sum(c.failed for c in opened)
    settled = [c.settled for c in opened]
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
