"""Edge nodes living in the store: registration, Ready condition and heartbeats, behaviours
(offline, flapping, silent), image arrivals with edge image GC, and `node.status.images`
reporting with the configured cap. Also the handles users get to steer a node.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from reconciler.sim.apiserver.errors import ApiError, Obj
from reconciler.sim.apiserver.resource_types import ResourceType
from reconciler.sim.clock import rfc3339
from reconciler.sim.driver import Simulation
from reconciler.sim.kubeedge.edge import Behaviour, EdgeNode
from reconciler.sim.kubeedge.nodeobjects import edge_node_object, ready_condition
from reconciler.sim.kubeedge.registry import ImageCatalogue, RegistryImage, digest_of


class EdgeFleet:
    """The simulated edge nodes of a cluster, kept in step with their Node objects."""

    def __init__(self, sim: Simulation, catalogue: ImageCatalogue, *, image_cap: int = 0,
                 kubeedge: str = "1.21", heartbeat_seconds: float | None = 300.0) -> None:
        self.sim = sim
        self.catalogue = catalogue
        self.image_cap = image_cap
        self.kubeedge = kubeedge
        self.heartbeat_seconds = heartbeat_seconds
        self.edges: dict[str, EdgeNode] = {}
        self._flap_epoch: dict[str, int] = {}
        # Called with (node, now) after a node's image store changed (the edge agents poll).
        self.on_store_change: Callable[[str, datetime], None] | None = None

    def notify(self, event: str, rt: ResourceType, obj: Obj) -> None:
        """Edge nodes do not react to store changes."""

    def register(self, edges: Iterable[EdgeNode], node_objects: Iterable[Obj]) -> None:
        """Take over `edges` (whose Node objects, `node_objects`, are already in the store or
        are created here) and start their heartbeats and flapping."""
        now = self.sim.clock.now()
        with self.sim.lock:
            for obj in node_objects:
                try:
                    self.sim.store.create("", "nodes", obj)
                except ApiError as exc:
                    if exc.code != 409:
                        raise
            for i, edge in enumerate(edges):
                self.edges[edge.name] = edge
                if self.heartbeat_seconds:
                    # Spread heartbeats over the period so they do not all land at once.
                    offset = self.heartbeat_seconds * ((i * 7919) % 1000) / 1000
                    self.sim.after(offset, self._heartbeat_for(edge.name))
                if edge.behaviour is Behaviour.FLAPPING:
                    self._schedule_flap(edge, now)

    def add(self, edge: EdgeNode) -> None:
        """Register one more edge node (creates its Node object)."""
        now = self.sim.clock.now()
        self.register([edge], [edge_node_object(edge, now, image_cap=self.image_cap,
                                                kubeedge=self.kubeedge)])

    # ----- Node status -----

    def write_status(self, edge: EdgeNode, now: datetime) -> None:
        """Post the node's Ready condition (and image list, when the cap allows)."""
        images = edge.status_images(self.image_cap)

        def post(node: Obj) -> None:
            status = node.setdefault("status", {})
            conditions = [c for c in status.get("conditions") or [] if c.get("type") != "Ready"]
            old = next((c for c in status.get("conditions") or [] if c.get("type") == "Ready"), None)
            want = "True" if edge.ready else "Unknown"
            transition = now
            if old is not None and old.get("status") == want and old.get("lastTransitionTime"):
                transition = datetime.fromisoformat(old["lastTransitionTime"].replace("Z", "+00:00"))
            cond = ready_condition(edge.ready, now, transition)
            if not edge.ready and old is not None and old.get("status") == want:
                # Nobody posts for a disconnected node: the heartbeat time stays as it was.
                cond["lastHeartbeatTime"] = old.get("lastHeartbeatTime", rfc3339(now))
            status["conditions"] = [cond, *conditions]
            status["images"] = images

        try:
            self.sim.store.mutate("", "nodes", edge.name, post, subresource="status")
        except ApiError as exc:
            if exc.code != 404:  # the Node was deleted by a user: nothing to post to
                raise

    def _heartbeat_for(self, name: str) -> Callable[[datetime], None]:
        def beat(now: datetime) -> None:
            edge = self.edges.get(name)
            if edge is None or self.heartbeat_seconds is None:
                return
            if edge.ready:
                self.write_status(edge, now)
            self.sim.after(self.heartbeat_seconds, beat)

        return beat

    # ----- behaviours -----

    def set_behaviour(self, name: str, behaviour: Behaviour) -> None:
        """Change how a node acts from now on (posts the new Ready condition)."""
        with self.sim.lock:
            edge = self.edges[name]
            edge.behaviour = behaviour
            edge.connected = behaviour is not Behaviour.OFFLINE
            self._flap_epoch[name] = self._flap_epoch.get(name, 0) + 1
            now = self.sim.clock.now()
            if behaviour is Behaviour.FLAPPING:
                self._schedule_flap(edge, now)
            self.write_status(edge, now)

    def _schedule_flap(self, edge: EdgeNode, now: datetime) -> None:
        epoch = self._flap_epoch.get(edge.name, 0)

        def toggle(when: datetime) -> None:
            if self._flap_epoch.get(edge.name, 0) != epoch or edge.behaviour is not Behaviour.FLAPPING:
                return
            edge.connected = not edge.connected
            self.write_status(edge, when)
            self.sim.after(edge.flap_up_seconds if edge.connected else edge.flap_down_seconds, toggle)

        self.sim.after(edge.flap_up_seconds if edge.connected else edge.flap_down_seconds, toggle)

    # ----- images -----

    def land(self, name: str, image: RegistryImage, now: datetime) -> None:
        """A pull finished on the edge: the image enters the store; image GC may run."""
        edge = self.edges.get(name)
        if edge is None:
            return
        edge.add_image(image, now)
        edge.collect_garbage(now)
        if self.image_cap != 0 and edge.ready:
            self.write_status(edge, now)
        self.store_changed(name, now)

    def store_changed(self, name: str, now: datetime) -> None:
        """Tell the edge agents (if any) that `name`'s image store changed."""
        if self.on_store_change is not None:
            self.on_store_change(name, now)


class EdgeNodeHandle:
    """A user's handle on one simulated edge node (thread-safe)."""

    def __init__(self, fleet: EdgeFleet, name: str) -> None:
        self._fleet = fleet
        self.name = name

    @property
    def behaviour(self) -> Behaviour:
        return self._fleet.edges[self.name].behaviour

    def set_behaviour(self, behaviour: Behaviour | str) -> None:
        """online | offline (NotReady) | flapping | silent (never answers, kubeedge#7049)."""
        self._fleet.set_behaviour(self.name, Behaviour(behaviour))

    def set_link(self, bytes_per_second: float) -> None:
        """Change the link speed of later pulls."""
        with self._fleet.sim.lock:
            self._fleet.edges[self.name].link_bps = bytes_per_second

    def images(self) -> dict[str, int]:
        """The node's image store: normalized reference -> size in bytes."""
        with self._fleet.sim.lock:
            return {ref: s.image.size for ref, s in self._fleet.edges[self.name].images.items()}

    def has_image(self, ref: str) -> bool:
        """Whether `ref` (any valid form) is in the node's store."""
        found = self._fleet.catalogue.lookup(ref)
        with self._fleet.sim.lock:
            return found is not None and self._fleet.edges[self.name].has(found.ref)

    def remove_image(self, ref: str) -> bool:
        """Delete an image from the node's store (as `crictl rmi`); False if absent."""
        found = self._fleet.catalogue.lookup(ref)
        with self._fleet.sim.lock:
            edge = self._fleet.edges[self.name]
            if found is None or found.ref not in edge.images:
                return False
            del edge.images[found.ref]
            now = self._fleet.sim.clock.now()
            if self._fleet.image_cap != 0 and edge.ready:
                self._fleet.write_status(edge, now)
            self._fleet.store_changed(self.name, now)
            return True

    def pull_unmanaged(self, ref: str, size: int) -> list[str]:
        """A pod pulls an image edgefleet does not manage (`size` bytes, kept in use by its
        container), then the kubelet's image GC runs: returns the references GC evicted."""
        with self._fleet.sim.lock:
            edge = self._fleet.edges[self.name]
            now = self._fleet.sim.clock.now()
            image = RegistryImage(ref=ref, size=size, digest=digest_of(ref))
            edge.add_image(image, now)
            edge.images[ref].in_use = True
            evicted = edge.collect_garbage(now)
            if self._fleet.image_cap != 0 and edge.ready:
                self._fleet.write_status(edge, now)
            self._fleet.store_changed(self.name, now)
            return evicted

    @property
    def edge(self) -> EdgeNode:
        """The raw state (read it under the simulation lock)."""
        return self._fleet.edges[self.name]
