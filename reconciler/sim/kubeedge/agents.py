"""Edge inventory agents on the simulated edge nodes (docs/agent.md): each runs the real agent's
pure logic (`agent.report.build_report`, `agent.writer.write_due`) against its node's simulated
image store and writes `status.agent` of the node's EdgeNodeInventory through the emulator, with
the same merge patch the real writer sends. An agent polls every `interval` simulated seconds
and also right after its store changes (a pull landed, image GC or `crictl rmi` removed an
image), writes when the content changed or the jittered resync is due, and only while its node
reaches the cloud (an offline node's report goes stale, as it would).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from reconciler.agent.report import AgentReport, ImageFs, RuntimeImage, RuntimeInfo, build_report
from reconciler.agent.writer import (
    DEFAULT_RESYNC,
    GROUP,
    KIND,
    PLURAL,
    RESYNC_JITTER,
    VERSION,
    Written,
    write_due,
)
from reconciler.sim.apiserver.errors import ApiError, Obj
from reconciler.sim.apiserver.resource_types import ResourceType
from reconciler.sim.driver import Simulation
from reconciler.sim.kubeedge.edge import EdgeNode, image_names

RUNTIME = RuntimeInfo("containerd", "1.7.24-sim")
DEFAULT_INTERVAL = 60.0


def runtime_images(edge: EdgeNode) -> list[RuntimeImage]:
    """The node's store as CRI ListImages would give it: one image per stored ref, its repo
    digest and (for a tag reference) its tag."""
    out: list[RuntimeImage] = []
    for ref, stored in sorted(edge.images.items()):
        names = image_names(stored.image)
        out.append(RuntimeImage(id=f"{stored.image.digest}/{ref}",
                                repo_tags=tuple(n for n in names if "@" not in n),
                                repo_digests=tuple(n for n in names if "@" in n),
                                size=stored.image.size))
    return out


def node_report(edge: EdgeNode, now: datetime) -> AgentReport:
    """The report the agent of `edge` builds at `now` (the image fs is the node's one disk)."""
    return build_report(runtime_images(edge), ImageFs(used_bytes=edge.disk_used(),
                                                      capacity_bytes=edge.disk_bytes), RUNTIME, now)


class EdgeAgents:
    """The agents of some simulated edge nodes (a simulated controller)."""

    def __init__(self, sim: Simulation, edges: Callable[[], dict[str, EdgeNode]], *,
                 interval: float = DEFAULT_INTERVAL, resync: float = DEFAULT_RESYNC,
                 seed: int = 0) -> None:
        self.sim = sim
        self._edges = edges
        self.interval = interval
        self.resync = resync
        self.nodes: set[str] = set()
        self.last: dict[str, Written] = {}
        self.writes = 0  # status.agent writes sent, for tests and the benchmark
        self._rng = random.Random(seed)

    def notify(self, event: str, rt: ResourceType, obj: Obj) -> None:
        """Agents watch their runtime, not the API server."""

    def run_on(self, names: Iterable[str]) -> None:
        """Start an agent on each of `names`, their first polls spread over one interval."""
        with self.sim.lock:
            for name in sorted(names):
                if name in self.nodes:
                    continue
                self.nodes.add(name)
                self.sim.after(self.interval * self._rng.random(), self._poller(name))

    def store_changed(self, name: str, now: datetime) -> None:
        """The node's image store changed: its agent polls now (the real one within a poll)."""
        if name in self.nodes:
            self.poll(name, now)

    def poll(self, name: str, now: datetime) -> str | None:
        """One poll of one agent; returns why it wrote, or None."""
        edge = self._edges().get(name)
        if edge is None or not edge.answers:
            return None
        report = node_report(edge, now)
        reason = write_due(self.last.get(name), report.content_hash, now)
        if reason is None:
            return None
        self._write(name, report)
        spread = 1.0 + self._rng.uniform(-RESYNC_JITTER, RESYNC_JITTER)
        self.last[name] = Written(report.content_hash, now + timedelta(seconds=self.resync * spread))
        return reason

    def _poller(self, name: str) -> Callable[[datetime], None]:
        def tick(now: datetime) -> None:
            self.poll(name, now)
            self.sim.after(self.interval, tick)
        return tick

    def _write(self, name: str, report: AgentReport) -> None:
        body = {"status": {"agent": report.as_status()}}
        store = self.sim.store
        try:
            store.patch(GROUP, PLURAL, name, body, "merge", subresource="status", version=VERSION,
                        field_validation="Strict")
        except ApiError as exc:
            if exc.code != 404:
                raise
            try:
                store.create(GROUP, PLURAL, {"apiVersion": f"{GROUP}/{VERSION}", "kind": KIND,
                                             "metadata": {"name": name}}, version=VERSION)
            except ApiError as created:
                if created.code != 409:
                    raise
            store.patch(GROUP, PLURAL, name, body, "merge", subresource="status", version=VERSION,
                        field_validation="Strict")
        self.writes += 1
