"""The controller's HTTP endpoints: /healthz, /readyz, /metrics, /status, /snapshot (the
published fleet snapshot, controller/snapshots.py) and POST /hooks/git.

A stdlib ThreadingHTTPServer in a daemon thread: the endpoints are few and cheap, and the
handlers only read the controller state or hand a verified push to a callback.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from reconciler.controller import status_page, webhook
from reconciler.controller.metrics import ControllerMetrics
from reconciler.controller.view import ControllerState

log = logging.getLogger("edgefleet.http")

#: A GET handler of other parts: path -> (status, content type, body), or None if not its path.
Route = Callable[[str], tuple[int, str, bytes] | None]
#: Oversized webhook bodies up to this size are read and thrown away before the 413 answer.
DISCARD_LIMIT_BYTES = 16 << 20


def parse_listen(listen: str) -> tuple[str, int]:
    """`host:port` (port 0: any free port) -> (host, port). Raises ValueError on bad input."""
    host, sep, port = listen.rpartition(":")
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise ValueError(f"--listen {listen!r}: expected HOST:PORT, e.g. 127.0.0.1:8080")
    return host.strip("[]"), int(port)


@dataclass(frozen=True)
class WebhookSettings:
    """A verified push calls `on_push(forge)`; `secret` None disables the endpoint."""

    secret: bytes | None
    on_push: Callable[[str], None]


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    server_version = "edgefleet"
    sys_version = ""
    # A client that stalls mid-request must not hold a handler thread forever.
    timeout = 30

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        state = self.server.state.snapshot()
        if path == "/healthz":
            self._send(200, "text/plain; charset=utf-8", b"ok\n")
        elif path == "/readyz":
            if state.ready:
                self._send(200, "text/plain; charset=utf-8", b"ready\n")
            else:
                self._send(503, "text/plain; charset=utf-8",
                           b"not ready: no reconcile cycle has succeeded yet\n")
        elif path == "/metrics":
            self._send(200, CONTENT_TYPE_LATEST, generate_latest(self.server.metrics.registry))
        elif path in ("/status", "/"):
            self._send(200, "text/html; charset=utf-8", status_page.render(state).encode())
        elif path == "/snapshot":
            self._send_snapshot()
        elif (found := next((a for a in (r(path) for r in self.server.routes) if a is not None), None)):
            self._send(*found)  # a path served by a part of the daemon (e.g. /reports)
        else:
            self._send(404, "text/plain; charset=utf-8", b"not found\n")

    def do_POST(self) -> None:
        if self.path.split("?", 1)[0] != "/hooks/git":
            self._send(404, "text/plain; charset=utf-8", b"not found\n")
            return
        hook = self.server.webhook
        if hook.secret is None:
            self._refuse(404, "disabled", b"webhooks are disabled (start with --webhook-secret-file)\n")
            return
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            self._refuse(411, "bad-request", b"Content-Length required\n")
            return
        if length < 0 or length > webhook.MAX_BODY_BYTES:
            # Discard (never keep) a moderately oversized body so that the client, which sends
            # it all before reading, sees the 413 instead of a broken pipe; past the cap, close.
            self.close_connection = True
            if length <= DISCARD_LIMIT_BYTES:
                self._discard(length)
            self._refuse(413, "too-large", b"payload too large\n")
            return
        body = self.rfile.read(length)
        headers = {k: v for k, v in self.headers.items()}
        verdict = webhook.verify(headers, body, hook.secret)
        if not verdict.ok or verdict.forge is None:
            log.warning("webhook refused from %s: %s", self.client_address[0], verdict.reason)
            self._refuse(401, "unauthorized", f"{verdict.reason}\n".encode())
            return
        event = webhook.event_of(headers, verdict.forge)
        kind = webhook.event_kind(verdict.forge, event)
        if kind == "ping":
            self.server.metrics.webhooks.labels("ping").inc()
            self._send(200, "text/plain; charset=utf-8", b"pong\n")
            return
        if kind == "ignored":
            # Signed, but not a push (issues, releases, no event header...): nothing to fetch.
            shown = event or "none"
            self.server.metrics.webhooks.labels("ignored").inc()
            self.server.metrics.webhook_events_ignored.labels(verdict.forge, shown).inc()
            log.info("webhook: ignored signed %s event %r (only pushes fetch)", verdict.forge, shown)
            self._send(200, "text/plain; charset=utf-8", f"ignored: event {shown!r} is not a push\n".encode())
            return
        self.server.metrics.webhooks.labels("accepted").inc()
        log.info("webhook: verified %s push; fetching now", verdict.forge)
        hook.on_push(verdict.forge)
        self._send(202, "text/plain; charset=utf-8", b"accepted: fetching\n")

    def _send_snapshot(self) -> None:
        """The file the daemon's snapshot schedule last wrote, byte for byte (the open file
        survives the next atomic replace, so a download is always one whole snapshot)."""
        file = self.server.snapshot_file
        if file is None:
            self._send(404, "text/plain; charset=utf-8",
                       b"snapshot publishing is disabled (start with --snapshot-dir)\n")
            return
        try:
            with file.open("rb") as stream:
                body = stream.read()
        except FileNotFoundError:
            self._send(503, "text/plain; charset=utf-8", b"no snapshot taken yet; try again shortly\n")
            return
        self.send_response(200)
        self.send_header("Content-Disposition", f'attachment; filename="{file.name}"')
        self._send_body("application/gzip", body)

    def _discard(self, length: int) -> None:
        while length > 0:
            chunk = self.rfile.read(min(length, 1 << 16))
            if not chunk:
                return
            length -= len(chunk)

    def _refuse(self, code: int, result: str, message: bytes) -> None:
        self.server.metrics.webhooks.labels(result).inc()
        self._send(code, "text/plain; charset=utf-8", message)

    def _send(self, code: int, content_type: str, body: bytes) -> None:
        self.send_response(code)
        self._send_body(content_type, body)

    def _send_body(self, content_type: str, body: bytes) -> None:
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        # Access lines at debug level; the request line never carries a secret (headers do).
        log.debug("%s %s", self.client_address[0], format % args)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], state: ControllerState, metrics: ControllerMetrics,
                 hook: WebhookSettings, snapshot_file: Path | None) -> None:
        self.state, self.metrics, self.webhook = state, metrics, hook
        self.routes: list[Route] = []
        self.snapshot_file = snapshot_file
        super().__init__(address, _Handler)


class ControllerHttp:
    """The endpoints, served from a daemon thread between `start()` and `stop()`."""

    def __init__(self, listen: str, state: ControllerState, metrics: ControllerMetrics,
                 hook: WebhookSettings, *, snapshot_file: Path | None = None) -> None:
        self._server = _Server(parse_listen(listen), state, metrics, hook, snapshot_file)
        self._thread = threading.Thread(target=self._server.serve_forever, name="http",
                                        kwargs={"poll_interval": 0.2}, daemon=True)

    @property
    def url(self) -> str:
        """Base URL with the port actually bound (useful with port 0)."""
        address = self._server.server_address
        host = address[0].decode() if isinstance(address[0], bytes) else str(address[0])
        port = address[1]
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{port}"

    def add_route(self, route: Route) -> None:
        """Serve the GET paths `route` answers (it returns None for the others)."""
        self._server.routes.append(route)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and release the port (also when never started)."""
        if self._thread.is_alive():
            self._server.shutdown()  # waits for serve_forever: only when it runs
            self._thread.join(timeout=5)
        self._server.server_close()
