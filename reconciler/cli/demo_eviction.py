"""The demo's edge-eviction step (docs/agent.md): an image edgefleet pulled disappears from one
edge node, as edge image GC removes it; the node's inventory agent reports its store, and the
controller plans the image again for that node alone and re-pulls it.

The embedded cluster runs an agent on every edge node (`status.agent`), so the demo's inventory
is complete: no pair is "unknown".
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from reconciler.controller.view import ControllerSnapshot
from reconciler.sim.apiserver.errors import ApiError
from reconciler.sim.cluster import EmbeddedCluster
from reconciler.sim.kubeedge.edge import Behaviour

log = logging.getLogger("edgefleet.demo")

INVENTORIES = ("edgefleet.io", "edgenodeinventories")
#: Real seconds the step may take: the agent writes at once, the watch wakes the controller,
#: and one small pull follows.
BUDGET = 20.0

Wait = Callable[[Callable[[ControllerSnapshot], bool], float], bool]


def pick_victim(cluster: EmbeddedCluster) -> tuple[str, str] | None:
    """An answering edge node with an agent, and the smallest image a job of edgefleet
    confirmed there that the node still holds; None when there is none."""
    choices: list[tuple[int, str, str]] = []
    for name in sorted(cluster.agents.nodes):
        handle = cluster.nodes[name]
        if handle.behaviour is not Behaviour.ONLINE:
            continue
        try:
            status = cluster.store.get(*INVENTORIES, name).get("status") or {}
        except ApiError:  # no inventory yet
            continue
        held = handle.images()
        for entry in status.get("images") or []:
            image = entry.get("image", "")
            if str(entry.get("source", "")).startswith("job/") and image in held:
                choices.append((held[image], name, image))
    return min(choices)[1:] if choices else None


def evict_and_repull(cluster: EmbeddedCluster, set_phase: Callable[[str], None], wait: Wait,
                     step: int) -> tuple[str, float, bool]:
    """Remove one edgefleet-pulled image from one node and wait until the controller re-pulled
    it and converged. Returns the phase line of the summary (name, seconds, converged)."""
    with_agent = len(cluster.agents.nodes)
    log.info("inventory: agent on %d of %d edge nodes (complete inventories: no pair unknown)",
             with_agent, len(cluster.nodes))
    victim = pick_victim(cluster)
    if victim is None:
        return "eviction by edge image GC: no candidate image", 0.0, True
    node, image = victim
    started = time.monotonic()
    set_phase(f"{step}. edge image GC removed {image.rpartition('/')[2]} from {node}; "
              "its agent reports it, edgefleet re-pulls it")
    cluster.nodes[node].remove_image(image)
    log.info("edge image GC on %s evicted %s (the node's agent reports its store)", node, image)

    def repulled(snapshot: ControllerSnapshot) -> bool:
        last = snapshot.last
        return cluster.nodes[node].has_image(image) and last is not None and last.converged

    done = wait(repulled, time.monotonic() + BUDGET)
    seconds = time.monotonic() - started
    if done:
        log.info("edgefleet re-pulled %s on %s %.1f s after the eviction", image, node, seconds)
    return f"re-pull after edge image GC evicted {image} on {node}", seconds, done
