"""The embedded cluster: object store + HTTP API server + simulated KubeEdge + a seeded fleet.

    with EmbeddedCluster(nodes=50, speed=60) as cluster:
        cluster.write_kubeconfig(path)      # kubectl / the Python client talk to cluster.url
        cluster.nodes["edge-shanghai-0001"].set_behaviour("silent")

With `clock=ManualClock()` no loop thread runs: time moves only through `advance(seconds)`,
which runs every simulated event at its own time (tests, no sleeps).
"""

from __future__ import annotations

import base64
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from types import TracebackType

from reconciler.kube.crds import read_crds
from reconciler.sim.apiserver.errors import ApiError
from reconciler.sim.apiserver.faults import Faults
from reconciler.sim.apiserver.server import ApiServer
from reconciler.sim.apiserver.store import Store
from reconciler.sim.clock import Clock, ManualClock, SimClock
from reconciler.sim.driver import Simulation
from reconciler.sim.kubeedge.agents import EdgeAgents
from reconciler.sim.kubeedge.edge import Behaviour
from reconciler.sim.kubeedge.fleet_runtime import EdgeFleet, EdgeNodeHandle
from reconciler.sim.kubeedge.fleetgen import FleetOptions, fleet_node_objects, generate_fleet
from reconciler.sim.kubeedge.jobs_v1alpha1 import PrePullV1Alpha1
from reconciler.sim.kubeedge.jobs_v1alpha2 import PrePullV1Alpha2
from reconciler.sim.kubeedge.nodegroups_controller import GROUPS, NodeGroupController
from reconciler.sim.kubeedge.prepull import Switches
from reconciler.sim.kubeedge.registry import ImageCatalogue, default_catalogue
from reconciler.sim.oci.server import SimRegistry
from reconciler.sim.served import CRD_GROUP, new_store

SUPPORTED_KUBEEDGE = ("1.21", "1.16")
CRD_INVENTORY_GROUP = "edgefleet.io"  # EdgeNodeInventory: one per node, written by its agent
# base64 of {"username":"edgefleet","password":"placeholder"}: no credential of anyone's
PLACEHOLDER_AUTH_CONFIG = base64.b64encode(
    b'{"username":"edgefleet","password":"placeholder"}').decode("ascii")


def spread(names: list[str], share: float) -> list[str]:
    """About `share` of `names`, evenly spread over the list (so over sites and sizes)."""
    return [n for i, n in enumerate(names) if int((i + 1) * share) > int(i * share)]


def job_api_version(kubeedge: str) -> str:
    """The ImagePrePullJob API version with the full status of a release."""
    return "v1alpha2" if kubeedge == "1.21" else "v1alpha1"


class EmbeddedCluster:
    """A KubeEdge cluster in-process. Parameters:

    - `nodes`: edge nodes to generate (plus `fleet.control_plane` control-plane nodes);
    - `kubeedge`: "1.21" (v1alpha2 semantics, 1.21+) or "1.16" (v1alpha1, 1.16-1.20);
    - `speed`: simulated seconds per real second (ignored with an explicit `clock`);
    - `seed`: fleet generation seed; `image_cap`: nodeStatusMaxImages (0 none, -1 all);
    - `faults`: API server fault injection (a fresh inactive one by default);
    - `fleet`: full FleetOptions (its `nodes`/`seed` are overridden by the arguments);
    - `switches`: KubeEdge bug switches; `catalogue`: the registries' images;
    - `clock`: a ManualClock for tests (no loop thread), or any Clock;
    - `serve`: start the HTTP API server (False: in-process store only);
    - `heartbeat_seconds`: node status report period (None: only on change);
    - `agents`: the share of edge nodes (0 to 1, spread evenly) that run the edge inventory
      agent and write `status.agent` (docs/agent.md); 0, the default, runs none;
    - `registry_port`: serve the catalogue over the OCI distribution API on this port
      (0: a free one; None, the default: no registry server), see `registry_host`.
    """

    def __init__(self, nodes: int = 50, kubeedge: str = "1.21", speed: float = 1.0, seed: int = 0,
                 image_cap: int = 0, faults: Faults | None = None, *,
                 fleet: FleetOptions | None = None, switches: Switches | None = None,
                 catalogue: ImageCatalogue | None = None, clock: Clock | None = None,
                 start: datetime | None = None, serve: bool = True, host: str = "127.0.0.1",
                 port: int = 0, heartbeat_seconds: float | None = 300.0, agents: float = 0.0,
                 registry_port: int | None = None) -> None:
        if kubeedge not in SUPPORTED_KUBEEDGE:
            raise ValueError(f"unsupported KubeEdge release {kubeedge!r}: use one of "
                             f"{', '.join(SUPPORTED_KUBEEDGE)}")
        if not 0.0 <= agents <= 1.0:
            raise ValueError("agents is the share of edge nodes running an agent, from 0 to 1")
        if image_cap < -1:
            raise ValueError("image_cap must be -1 (all), 0 (none) or a positive count")
        self.kubeedge = kubeedge
        self.job_api_version = job_api_version(kubeedge)
        self.clock: Clock = clock if clock is not None else SimClock(speed, start)
        self.switches = switches or Switches()
        self.catalogue = catalogue or default_catalogue()
        self.faults = faults if faults is not None else Faults()
        self.image_cap = image_cap
        self.store: Store = new_store(kubeedge, now=self.clock.now, seed=seed)
        # edgefleet's own cluster serves edgefleet's CRDs (EdgeNodeInventory) from the start,
        # so `kubectl get edgenodeinventories` works before any `sync --install-crds`.
        for crd in read_crds():
            self.store.create(CRD_GROUP, "customresourcedefinitions", crd)
        self.simulation = Simulation(self.store, self.clock)
        self.fleet = EdgeFleet(self.simulation, self.catalogue, image_cap=image_cap,
                               kubeedge=kubeedge, heartbeat_seconds=heartbeat_seconds)
        self.node_groups = NodeGroupController(self.simulation)
        self.prepull: PrePullV1Alpha2 | PrePullV1Alpha1 = (
            PrePullV1Alpha2(self.simulation, self.fleet, self.switches) if kubeedge == "1.21"
            else PrePullV1Alpha1(self.simulation, self.fleet, self.switches))
        self.simulation.controllers.extend([self.fleet, self.node_groups, self.prepull])

        options = replace(fleet or FleetOptions(), nodes=nodes, seed=seed)
        generated = generate_fleet(options, start=self.clock.now(), catalogue=self.catalogue)
        self.fleet.register(generated.edges, fleet_node_objects(
            generated, self.clock.now(), image_cap=image_cap, kubeedge=kubeedge))
        for group in generated.node_groups:
            self.store.create(*GROUPS, group)
        self.nodes: dict[str, EdgeNodeHandle] = {
            e.name: EdgeNodeHandle(self.fleet, e.name) for e in generated.edges}
        self.control_plane: list[str] = list(generated.control_plane)
        self.agents = EdgeAgents(self.simulation, lambda: self.fleet.edges, seed=seed)
        self.fleet.on_store_change = self.agents.store_changed
        self.simulation.controllers.append(self.agents)
        self.agents.run_on(spread(list(self.nodes), agents))
        self.server: ApiServer | None = ApiServer(
            self.store, faults=self.faults, host=host, port=port,
            node_scoped=frozenset({(CRD_INVENTORY_GROUP, "edgenodeinventories")})) if serve else None
        self.registry: SimRegistry | None = (
            SimRegistry(self.catalogue, host=host, port=registry_port) if registry_port is not None else None)
        self._started = False

    # ----- lifecycle -----

    def start(self) -> EmbeddedCluster:
        """Start the API server and (with a real-time clock) the simulation thread."""
        if self._started:
            return self
        self._started = True
        if self.server is not None:
            self.server.start()
        if self.registry is not None:
            self.registry.start()
        if isinstance(self.clock, ManualClock):
            self.simulation.step()
        else:
            self.simulation.start()
        return self

    def stop(self) -> None:
        """Stop the simulation thread, the API server and the registry (joined). Idempotent."""
        self.simulation.stop()
        if self.server is not None:
            self.server.stop()
        if self.registry is not None:
            self.registry.stop()
        self._started = False

    def __enter__(self) -> EmbeddedCluster:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    # ----- access -----

    @property
    def url(self) -> str:
        """http://127.0.0.1:<port> of the running API server."""
        if self.server is None:
            raise RuntimeError("this cluster has no API server (serve=False)")
        return self.server.url

    @property
    def registry_host(self) -> str:
        """`127.0.0.1:PORT` of the running simulated registry: references at this host are the
        catalogue's images by repository path (`HOST/vision/inspector:2.5.0`); plain HTTP."""
        if self.registry is None:
            raise RuntimeError("this cluster serves no registry (registry_port=None)")
        return self.registry.host

    def write_kubeconfig(self, path: Path | str) -> Path:
        """Write a kubeconfig for the API server to `path`; returns the path."""
        if self.server is None:
            raise RuntimeError("this cluster has no API server (serve=False)")
        return self.server.write_kubeconfig(Path(path))

    def advance(self, seconds: float) -> None:
        """ManualClock only: run `seconds` of simulated time now (no sleeping)."""
        self.simulation.advance(seconds)

    def step(self) -> None:
        """ManualClock only: deliver pending store changes and run what is due now."""
        self.simulation.step()

    def edge_names(self, behaviour: Behaviour | str | None = None) -> list[str]:
        """Edge node names, optionally only those with `behaviour`, in fleet order."""
        with self.simulation.lock:
            return [name for name, h in self.nodes.items()
                    if behaviour is None or h.behaviour is Behaviour(behaviour)]

    def add_pull_secret(self, ref: str) -> None:
        """Create the `namespace/name` registry secret, and its namespace, when missing
        (existing objects are kept). ValueError when `ref` is not `namespace/name`.

        The secret is a kubernetes.io/dockerconfigjson whose `.dockerconfigjson` holds a
        top-level CRI AuthConfig with a placeholder credential,
        `{"username": "edgefleet", "password": "placeholder"}`: the shape KubeEdge's edge
        decodes into pull credentials. The standard layout `kubectl create secret
        docker-registry` writes, `{"auths": {"<registry>": {"auth": "..."}}}`, decodes into
        empty credentials at the edge, so its pulls of private images fail (docs/kubeedge.md §4.5;
        `Switches.dockerconfig_auths_yields_no_credentials`)."""
        namespace, _, name = ref.partition("/")
        if not namespace or not name or "/" in name:
            raise ValueError(f"a pull secret is namespace/name, got {ref!r}")
        for plural, obj, ns in (
                ("namespaces", {"metadata": {"name": namespace}}, None),
                ("secrets", {"metadata": {"name": name, "namespace": namespace},
                             "type": "kubernetes.io/dockerconfigjson",
                             "data": {".dockerconfigjson": PLACEHOLDER_AUTH_CONFIG}}, namespace)):
            try:
                self.store.create("", plural, obj, namespace=ns)
            except ApiError as exc:
                if exc.code != 409:
                    raise

    @property
    def log(self) -> list[str]:
        """What the simulated CloudCore/controller-manager logged (e.g. #5531, skips)."""
        return self.prepull.log
