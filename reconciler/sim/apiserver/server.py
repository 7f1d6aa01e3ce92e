"""The embedded Kubernetes API server: serves a Store over HTTP for the official Python client
and real kubectl. See handler.py for the protocol details and faults.py for fault injection.

    store = new_store("1.21")
    with ApiServer(store) as server:
        server.write_kubeconfig(tmp / "kubeconfig")
        ...  # kubectl --kubeconfig tmp/kubeconfig get nodes
"""

from __future__ import annotations

import threading
from pathlib import Path
from types import TracebackType

from reconciler.sim.apiserver.audit import RequestLog
from reconciler.sim.apiserver.counting import RequestCounts
from reconciler.sim.apiserver.faults import Faults
from reconciler.sim.apiserver.handler import SimHttpServer
from reconciler.sim.apiserver.kubeconfig import write_kubeconfig
from reconciler.sim.apiserver.store import Store


class ApiServer:
    """A threaded HTTP API server over `store`, bound to host:port (port 0 picks a free one)
    when started. `faults` (a fresh, inactive Faults when omitted) may be changed at run time."""

    def __init__(self, store: Store, *, faults: Faults | None = None, host: str = "127.0.0.1",
                 port: int = 0, node_scoped: frozenset[tuple[str, str]] = frozenset()) -> None:
        self.store = store
        self.node_scoped = node_scoped  # node_identity.py: writable by their own node only
        self.faults = faults if faults is not None else Faults()
        #: every resource request served, as RBAC sees it (audit.py)
        self.requests = RequestLog()
        self.counts = RequestCounts()  # every request served, by verb and resource (counting.py)
        self._address = (host, port)
        self._http: SimHttpServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> ApiServer:
        """Bind and serve in a background thread; returns self. Raises OSError if the port is
        taken."""
        if self._http is not None:
            return self
        self._http = SimHttpServer(self._address, self.store, self.faults, self.requests, self.node_scoped,
                                   counts=self.counts)
        self._thread = threading.Thread(target=self._http.serve_forever, kwargs={"poll_interval": 0.1},
                                        name=f"edgefleet-apiserver-{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """End open watches, stop serving and release the port. Idempotent."""
        if self._http is None:
            return
        self._http.stopping.set()
        self._http.shutdown()
        self._http.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._http = None
        self._thread = None

    @property
    def port(self) -> int:
        """The bound port (only meaningful once started)."""
        return self._http.server_address[1] if self._http is not None else self._address[1]

    @property
    def url(self) -> str:
        """http://host:port of the running server."""
        if self._http is None:
            raise RuntimeError("the API server is not started")
        host = str(self._http.server_address[0])
        return f"http://{host}:{self.port}"

    def write_kubeconfig(self, path: Path, *, context: str = "edgefleet-sim") -> Path:
        """Write a kubeconfig for this server (plain http, a dummy bearer token) to `path`."""
        return write_kubeconfig(path, self.url, context=context)

    def __enter__(self) -> ApiServer:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
