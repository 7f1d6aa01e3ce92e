"""The simulated registry's HTTP shell: a ThreadingHTTPServer on 127.0.0.1 that answers with
routes.py over a catalogue, and makes the catalogue serve its references at this host.

    with SimRegistry(cluster.catalogue) as registry:
        registry.host  # "127.0.0.1:PORT": images are "127.0.0.1:PORT/vision/inspector:2.5.0"
"""

from __future__ import annotations

import base64
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import urlsplit

from reconciler.sim.kubeedge.registry import ImageCatalogue
from reconciler.sim.oci.routes import API_VERSION_HEADER, answer


def has_basic_credentials(header: str) -> bool:
    """Whether an Authorization header carries Basic credentials with a user name (never
    checked further, never kept: the simulation has no accounts)."""
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        user, colon, _ = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return False
    return bool(user and colon)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: clients pool their connections
    server: _RegistryHttpServer

    def _serve(self) -> None:
        path = urlsplit(self.path).path
        authorized = has_basic_credentials(self.headers.get("Authorization", ""))
        reply = answer(self.server.catalogue, self.command, path, authorized=authorized)
        self.server.count(self.command, path)
        length = int(reply.headers.get("Content-Length", len(reply.body)))
        self.send_response(reply.status)
        for key, value in {**API_VERSION_HEADER, **reply.headers, "Content-Length": str(length)}.items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(reply.body)

    do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = do_DELETE = _serve

    def log_message(self, format: str, *args: object) -> None:
        pass  # tests and the demo count requests instead (SimRegistry.requests)


class _RegistryHttpServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], catalogue: ImageCatalogue) -> None:
        super().__init__(address, _Handler)
        self.catalogue = catalogue
        self.requests: Counter[tuple[str, str]] = Counter()
        self._lock = threading.Lock()

    def count(self, method: str, path: str) -> None:
        kind = next((k for k in ("manifests", "blobs", "tags") if f"/{k}/" in path), path)
        with self._lock:
            self.requests[(method, kind)] += 1


class SimRegistry:
    """The catalogue over the OCI distribution API, plain HTTP on host:port (0: a free port).
    Clients list `host` as an insecure registry (FleetConfig `spec.registries.insecure`)."""

    def __init__(self, catalogue: ImageCatalogue, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.catalogue = catalogue
        self._address = (host, port)
        self._http: _RegistryHttpServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> SimRegistry:
        """Bind, serve in a background thread, and serve the catalogue at this host. Raises
        OSError if the port is taken."""
        if self._http is None:
            self._http = _RegistryHttpServer(self._address, self.catalogue)
            self.catalogue.serve_at(self.host)
            self._thread = threading.Thread(target=self._http.serve_forever, kwargs={"poll_interval": 0.1},
                                            name=f"edgefleet-sim-registry-{self.host}", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port (the thread is joined). Idempotent."""
        if self._http is None:
            return
        self._http.shutdown()
        self._http.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._http = self._thread = None

    @property
    def host(self) -> str:
        """`127.0.0.1:PORT`, the registry part of the references it serves."""
        if self._http is None:
            raise RuntimeError("the simulated registry is not started")
        host, port = self._http.server_address[:2]
        return f"{host!s}:{port}"

    @property
    def requests(self) -> Counter[tuple[str, str]]:
        """Requests served, by (method, "manifests" | "blobs" | "tags" | path)."""
        return Counter(self._http.requests) if self._http is not None else Counter()

    def __enter__(self) -> SimRegistry:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
