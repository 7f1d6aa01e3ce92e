"""The demo's rollout step (docs/rollout.md): a group of one shop site gets a new image in two
waves with a failure budget; the live view names the open wave. Then a typo'd tag (the
registry does not have it) starts a new rollout that halts on its failure budget after wave 0,
so wave 1 never gets a job. Progress is read from the group's FleetRollout, as `kubectl` or
`edgefleet rollout status` would."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from reconciler.cli.demo_change import send_push_webhook
from reconciler.cli.demo_git import ServedFleetRepository
from reconciler.cli.demo_view import DemoStatus
from reconciler.controller.view import ControllerSnapshot
from reconciler.kube.rollouts import read_rollout
from reconciler.kube.session import Session
from reconciler.sim.kubeedge.registry import ImageCatalogue, RegistryImage, digest_of

log = logging.getLogger("edgefleet.demo")

GROUP = "hamburg-displays"
SITE = "shop-hamburg"
GOOD = "registry.example.com/retail/queue-display:1.4.0"
BAD = "registry.example.com/retail/queue-display:1.4.1-rc"  # never pushed: the registry lacks it
_GROUP_FILE = """\
# The demo's rollout (docs/rollout.md): the queue displays of the Hamburg shop, in two waves.
apiVersion: edgefleet.io/v1alpha1
kind: NodeGroupImages
metadata:
  name: {group}
spec:
  nodes:
    selector:
      matchLabels: {{topology.edgefleet.io/site: {site}}}
  images: [{image}]
  rollout:
    waves: [{{nodes: 25%}}, {{nodes: 100%}}]
    failureBudget: 20%
    pauseAfterWave: 1m
"""

Wait = Callable[[Callable[[ControllerSnapshot], bool], float], bool]


@dataclass
class RolloutDemo:
    """What the step needs from the running demo: where to commit, whom to tell, what to read."""

    repo: ServedFleetRepository
    controller_url: str
    secret: bytes
    session: Session
    catalogue: ImageCatalogue
    status: DemoStatus
    wait: Wait  # wait(done, deadline) -> done, refreshing the live view meanwhile


def _push(demo: RolloutDemo, image: str, message: str) -> str:
    revision = demo.repo.commit(f"groups/{GROUP}.yaml",
                                _GROUP_FILE.format(group=GROUP, site=SITE, image=image), message)
    demo.repo.push()
    send_push_webhook(demo.controller_url, demo.secret, branch="main", revision=revision)
    return revision


def rollout_steps(demo: RolloutDemo, *, first: int, budget: float) -> list[tuple[str, float, bool]]:
    """Steps `first` (two waves) and `first + 1` (a halt); each returns a demo phase row."""
    phases: list[tuple[str, float, bool]] = []
    deadline = time.monotonic() + budget
    demo.catalogue.add(RegistryImage(GOOD, 12 * 1024 * 1024, digest_of(GOOD)))
    revision = _push(demo, GOOD, f"{GROUP}: queue-display 1.4.0, in two waves")
    began, seen = time.monotonic(), [-1]

    def waves_done(_: ControllerSnapshot) -> bool:
        record = read_rollout(demo.session, GROUP)
        status = record.status if record is not None else None
        if status is None or not status.rollout_id:
            return False
        if status.wave != seen[0]:
            seen[0] = status.wave
            log.info("rollout of %s: wave %d of %d open (waves of %s nodes)", GROUP, status.wave,
                     status.waves, " and ".join(str(s) for s in status.wave_sizes))
        demo.status.phase = (f"{first}. rollout of {GROUP} ({revision[:12]}): wave {status.wave} "
                             f"of {status.waves} open, {status.nodes_done}/{status.nodes_total} "
                             f"nodes done; next: {status.next_step}")
        return status.next_step == "complete"

    done = demo.wait(waves_done, deadline)
    phases.append((f"rollout of {GROUP} through {max(seen[0], 0) + 1} waves", time.monotonic() - began,
                   done and seen[0] == 1))
    if not phases[-1][2]:
        return phases  # the demo reports the rollout that did not finish; no halt on top of it
    demo.catalogue.withdraw(BAD)
    revision = _push(demo, BAD, f"{GROUP}: queue-display 1.4.1-rc (a tag that was never pushed)")
    began = time.monotonic()

    def halted(_: ControllerSnapshot) -> bool:
        record = read_rollout(demo.session, GROUP)
        status = record.status if record is not None else None
        if status is None or not status.halted:
            demo.status.phase = f"{first + 1}. new rollout of {GROUP} ({revision[:12]}): a bad tag"
            return False
        demo.status.phase = (f"{first + 1}. rollout of {GROUP} halted at wave {status.wave}: "
                             f"{status.halted}; wave 1 gets no job")
        log.info("rollout of %s halted: %s", GROUP, status.halted)
        return True

    stopped = demo.wait(halted, deadline)
    phases.append((f"bad tag on {GROUP}, halted by its failure budget after wave 0", time.monotonic() - began,
                   stopped))
    return phases
