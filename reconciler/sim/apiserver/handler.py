"""The HTTP request handler of the embedded API server: one thread per connection, HTTP/1.1
keep-alive, chunked watch streams, Nagle disabled. Resource requests go to the Store; errors
answer as `Status` objects."""

from __future__ import annotations

import contextlib
import logging
import select
import socket
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import orjson

from reconciler.sim.apiserver import discovery, openapi, tables
from reconciler.sim.apiserver.audit import Request, RequestLog
from reconciler.sim.apiserver.counting import RequestCounts
from reconciler.sim.apiserver.errors import ApiError, Obj, conflict
from reconciler.sim.apiserver.faults import Faults
from reconciler.sim.apiserver.node_identity import node_restriction
from reconciler.sim.apiserver.resource_types import PatchType
from reconciler.sim.apiserver.routes import Query, Route, parse_resource_path
from reconciler.sim.apiserver.store import Store

log = logging.getLogger(__name__)

PATCH_TYPES: dict[str, PatchType] = {
    "application/merge-patch+json": "merge",
    "application/json-patch+json": "json",
    "application/strategic-merge-patch+json": "strategic",
    "application/apply-patch+yaml": "apply",
}


class SimHttpServer(ThreadingHTTPServer):
    """ThreadingHTTPServer carrying what handlers serve."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], store: Store, faults: Faults,
                 requests: RequestLog | None = None,
                 node_scoped: frozenset[tuple[str, str]] = frozenset(),
                 counts: RequestCounts | None = None) -> None:
        super().__init__(address, ApiRequestHandler)
        self.store = store
        self.faults = faults
        self.requests = requests if requests is not None else RequestLog()
        self.node_scoped = node_scoped  # (group, plural) restricted by node identity
        self.counts = counts if counts is not None else RequestCounts()
        self.stopping = threading.Event()


class _WatchEnds(threading.Event):
    """Set when the server stops or the client has closed its end of the connection."""

    def __init__(self, server_stop: threading.Event, conn: socket.socket) -> None:
        super().__init__()
        self._server_stop = server_stop
        self._conn = conn

    def is_set(self) -> bool:
        if self._server_stop.is_set():
            return True
        try:
            readable, _, _ = select.select([self._conn], [], [], 0)
            return bool(readable) and self._conn.recv(1, socket.MSG_PEEK) == b""
        except (OSError, ValueError):
            return True


def _name_of(body: Any) -> str | None:
    name = ((body.get("metadata") or {}).get("name")) if isinstance(body, dict) else None
    return name if isinstance(name, str) else None


def _parse_body(raw: bytes, content_type: str) -> Any:
    if "protobuf" in content_type or "cbor" in content_type:
        raise ApiError(415, "UnsupportedMediaType", f"the embedded API server reads JSON and YAML "
                       f"bodies only, not {content_type.split(';')[0]} (kubectl: use create -f or apply)")
    if not raw:
        return None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        if "yaml" not in content_type:
            raise ApiError(400, "BadRequest", "the request body is not valid JSON") from None
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    try:
        return YAML(typ="safe").load(raw.decode("utf-8"))
    except (YAMLError, UnicodeDecodeError):
        raise ApiError(400, "BadRequest", "the request body is not valid YAML") from None


def _created_name(raw: bytes) -> str | None:
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None  # a YAML body: counted, but not by name
    name = (body.get("metadata") or {}).get("name") if isinstance(body, dict) else None
    return str(name) if name else None


class ApiRequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: SimHttpServer

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)

    # ----- plumbing -----

    def _send(self, code: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def _send_obj(self, code: int, obj: Any, headers: dict[str, str] | None = None) -> None:
        self._send(code, orjson.dumps(obj), headers)

    def _send_error(self, err: ApiError) -> None:
        headers = {}
        if err.code == 429:
            headers["Retry-After"] = str(err.details.get("retryAfterSeconds", 1))
        self._send_obj(err.code, err.status(), headers)

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _handle(self, method: str) -> None:
        url = urlsplit(self.path)
        body = self._body()
        try:
            route = parse_resource_path(self.server.store, url.path)
            if route is None:
                self._serve_other(method, url.path)
            else:
                self._serve_resource(method, route, Query(url.query), body)
        except ApiError as err:
            self._send_error(err)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception:
            log.exception("internal error serving %s %s", method, self.path)
            self._send_error(ApiError(500, "InternalError", "an internal error occurred"))

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_PATCH(self) -> None:
        self._handle("PATCH")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    # ----- non-resource endpoints -----

    def _serve_other(self, method: str, path: str) -> None:
        store, faults = self.server.store, self.server.faults
        self.server.counts.record("get", "discovery")
        if faults.include_discovery:
            self._apply_faults("get")
        if method != "GET":
            raise ApiError(405, "MethodNotAllowed", f"the server does not allow this method on {path}")
        path = path.rstrip("/") or "/"
        if path in ("/healthz", "/readyz", "/livez"):
            self._send(200, b"ok", {"Content-Type": "text/plain"})
            return
        segments = [s for s in path.split("/") if s] or [""]
        document: Obj
        if path == "/":
            document = {"paths": ["/api", "/api/v1", "/apis", "/healthz", "/livez", "/openapi/v3",
                                  "/readyz", "/version"]}
        elif path == "/version":
            document = discovery.SERVER_VERSION
        elif path == "/api":
            host, port = self.server.server_address[:2]
            document = discovery.api_versions(f"{host!s}:{port}")
        elif path == "/apis":
            document = discovery.api_group_list(store)
        elif segments[0] == "api" and len(segments) == 2:
            document = discovery.resource_list(store, "", segments[1])
        elif segments[0] == "apis" and len(segments) == 2:
            document = discovery.api_group(store, segments[1])
        elif segments[0] == "apis" and len(segments) == 3:
            document = discovery.resource_list(store, segments[1], segments[2])
        elif path == "/openapi/v3":
            document = openapi.root_document(store)
        elif segments[:2] == ["openapi", "v3"] and segments[2] == "api" and len(segments) == 4:
            document = openapi.group_version_document(store, "", segments[3])
        elif segments[:2] == ["openapi", "v3"] and segments[2] == "apis" and len(segments) == 5:
            document = openapi.group_version_document(store, segments[3], segments[4])
        else:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        self._send_obj(200, document)

    # ----- resources -----

    def _apply_faults(self, verb: str) -> None:
        faults = self.server.faults
        if faults.latency > 0:
            time.sleep(faults.latency)
        err = faults.request_error(verb)
        if err is not None:
            raise err

    def _serve_resource(self, method: str, route: Route, query: Query, raw: bytes) -> None:
        verb = {"POST": "create", "PUT": "update", "PATCH": "patch"}.get(method, "")
        if method == "GET":
            verb = "get" if route.name else ("watch" if query.flag("watch") else "list")
        elif method == "DELETE":
            verb = "delete" if route.name else "deletecollection"
        if not verb or (verb == "create" and route.name) or (verb in ("update", "patch") and not route.name):
            raise ApiError(405, "MethodNotAllowed", f"{method} is not supported on this path")
        self._record(verb, route, _created_name(raw) or "" if verb == "create" and raw else "")
        self.server.counts.record(verb, route.plural)
        self._apply_faults(verb)
        created = _parse_body(raw, self.headers.get("Content-Type", "")) if verb == "create" and raw else None
        denied = node_restriction(self.headers.get("Impersonate-User"), verb, route,
                                  _name_of(created), self.server.node_scoped)
        if denied is not None:
            raise denied
        if verb == "create":  # one that got past the injected faults and the node rule: it reached the store
            self.server.counts.record_create(route.plural, _created_name(raw))
        if verb in ("update", "patch") and self.server.faults.take_conflict():
            raise conflict(route.plural, route.group, route.name or "")
        getattr(self, f"_verb_{verb}")(route, query, raw)

    def _record(self, verb: str, route: Route, created: str = "") -> None:
        groups = tuple(g.strip() for value in self.headers.get_all("Impersonate-Group") or ()
                       for g in value.split(",") if g.strip())
        self.server.requests.record(Request(
            self.headers.get("Impersonate-User") or "admin", groups, verb, route.group, route.plural,
            route.subresource or "", route.namespace or "", route.name or "",
            agent=self.headers.get("User-Agent") or "", created=created))

    def _now(self) -> datetime:
        return self.server.store.now()

    def _printer_columns(self, route: Route) -> tuple[Obj, ...]:
        """The additionalPrinterColumns of the route's CRD version (none for built-in types)."""
        return self.server.store.resource(route.group, route.plural).printer_columns.get(route.version, ())

    def _verb_get(self, route: Route, query: Query, raw: bytes) -> None:
        store = self.server.store
        data = store.get_bytes(route.group, route.plural, route.name or "",
                               namespace=route.namespace, version=route.version)
        if tables.wants_table(self.headers.get("Accept", "")):
            obj = orjson.loads(data)
            rv = obj["metadata"].get("resourceVersion", "")
            self._send_obj(200, tables.table(route.group, route.plural, [obj], self._now(), rv,
                                             printer_columns=self._printer_columns(route)))
            return
        self._send(200, data)

    def _verb_list(self, route: Route, query: Query, raw: bytes) -> None:
        store = self.server.store
        rt = store.resource(route.group, route.plural)
        items, rv, token = store.list_bytes(
            route.group, route.plural, namespace=route.namespace, version=route.version,
            label_selector=query.get("labelSelector"), field_selector=query.get("fieldSelector"),
            limit=query.integer("limit"), continue_token=query.get("continue") or None)
        if tables.wants_table(self.headers.get("Accept", "")):
            objs = [orjson.loads(b) for b in items]
            self._send_obj(200, tables.table(route.group, route.plural, objs, self._now(), rv, token,
                                             printer_columns=rt.printer_columns.get(route.version, ())))
            return
        meta: Obj = {"resourceVersion": rv}
        if token:
            meta["continue"] = token
        head = orjson.dumps({"apiVersion": rt.api_version(route.version), "kind": rt.list_kind,
                             "metadata": meta})
        self._send(200, head[:-1] + b',"items":[' + b",".join(items) + b"]}")

    def _verb_watch(self, route: Route, query: Query, raw: bytes) -> None:
        store, faults = self.server.store, self.server.faults
        timeout = float(query.integer("timeoutSeconds")) or None
        drop_seconds = faults.drop_watch_after_seconds
        limit = timeout if drop_seconds is None else min(timeout or drop_seconds, drop_seconds)
        as_table = tables.wants_table(self.headers.get("Accept", ""))
        error: ApiError | None = None
        stream: Iterator[tuple[str, bytes]] = iter(())
        try:
            if query.get("resourceVersion") and faults.resume_gone():
                raise ApiError(410, "Expired", "too old resource version (injected fault)")
            stream = store.watch_bytes(
                route.group, route.plural, namespace=route.namespace, version=route.version,
                resource_version=query.get("resourceVersion") or None,
                label_selector=query.get("labelSelector"), field_selector=query.get("fieldSelector"),
                bookmarks=query.flag("allowWatchBookmarks"), timeout=limit,
                stop=_WatchEnds(self.server.stopping, self.connection),
                send_initial_events=query.flag("sendInitialEvents"))
        except ApiError as err:
            if err.code != 410:
                raise
            error = err  # the API server answers an expired watch with 200 and an ERROR event
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        started, sent = time.monotonic(), 0
        try:
            for kind, data in stream:
                if faults.watch_event_delay > 0 and kind != "BOOKMARK":
                    time.sleep(faults.watch_event_delay)
                if as_table and kind != "BOOKMARK":
                    obj = orjson.loads(data)
                    data = orjson.dumps(tables.table(route.group, route.plural, [obj], self._now(),
                                                     obj["metadata"].get("resourceVersion", ""),
                                                     printer_columns=self._printer_columns(route)))
                self._chunk(b'{"type":"' + kind.encode() + b'","object":' + data + b"}\n")
                sent += 1
                if faults.drop_watch_after_events is not None and sent >= faults.drop_watch_after_events:
                    self._drop()
                    return
        except ApiError as err:
            error = err
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
            return
        if error is not None:
            self._chunk(b'{"type":"ERROR","object":' + orjson.dumps(error.status()) + b"}\n")
        elif drop_seconds is not None and time.monotonic() - started >= drop_seconds:
            self._drop()
            return
        self.wfile.write(b"0\r\n\r\n")

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")

    def _drop(self) -> None:
        """Cut the connection mid-stream, without the final chunk."""
        self.server.faults.count_drop()
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _write_headers(self, warnings: list[str]) -> dict[str, str]:
        if not warnings:
            return {}
        return {"Warning": ", ".join('299 - "' + w.replace('"', '\\"') + '"' for w in warnings)}

    def _verb_create(self, route: Route, query: Query, raw: bytes) -> None:
        warnings: list[str] = []
        obj = self.server.store.create(
            route.group, route.plural, _parse_body(raw, self.headers.get("Content-Type", "")),
            namespace=route.namespace, version=route.version, dry_run=query.dry_run,
            field_validation=query.field_validation, warnings=warnings)
        self._send_obj(201, obj, self._write_headers(warnings))

    def _verb_update(self, route: Route, query: Query, raw: bytes) -> None:
        body = _parse_body(raw, self.headers.get("Content-Type", ""))
        if not isinstance(body, dict):
            raise ApiError(400, "BadRequest", "the request body must be a JSON object")
        body_name = (body.get("metadata") or {}).get("name")
        if body_name and body_name != route.name:
            raise ApiError(400, "BadRequest", f"the name of the object ({body_name}) does not match "
                           f"the name on the URL ({route.name})")
        body.setdefault("metadata", {})["name"] = route.name
        warnings: list[str] = []
        obj = self.server.store.update(
            route.group, route.plural, body, namespace=route.namespace, version=route.version,
            subresource=route.subresource, dry_run=query.dry_run,
            field_validation=query.field_validation, warnings=warnings)
        self._send_obj(200, obj, self._write_headers(warnings))

    def _verb_patch(self, route: Route, query: Query, raw: bytes) -> None:
        content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip()
        patch_type = PATCH_TYPES.get(content_type)
        if patch_type is None:
            raise ApiError(415, "UnsupportedMediaType", f"the body of the request was in an unknown "
                           f"format - accepted media types include: {', '.join(PATCH_TYPES)}")
        warnings: list[str] = []
        store = self.server.store
        existed = patch_type != "apply" or self._exists(route)
        obj = store.patch(route.group, route.plural, route.name or "", _parse_body(raw, content_type),
                          patch_type, namespace=route.namespace, version=route.version,
                          subresource=route.subresource, dry_run=query.dry_run,
                          field_validation=query.field_validation, warnings=warnings)
        self._send_obj(200 if existed else 201, obj, self._write_headers(warnings))

    def _exists(self, route: Route) -> bool:
        try:
            self.server.store.get_bytes(route.group, route.plural, route.name or "",
                                        namespace=route.namespace, version=route.version)
            return True
        except ApiError:
            return False

    def _verb_delete(self, route: Route, query: Query, raw: bytes) -> None:
        store = self.server.store
        rt = store.resource(route.group, route.plural)
        obj = store.delete(route.group, route.plural, route.name or "", namespace=route.namespace,
                           version=route.version, dry_run=query.dry_run)
        pending = bool(obj["metadata"].get("finalizers"))
        if rt.is_custom or pending:
            self._send_obj(202 if pending and not rt.is_custom else 200, obj)
            return
        self._send_obj(200, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                             "details": {"name": route.name, "kind": route.plural,
                                         "uid": obj["metadata"].get("uid")}})

    def _verb_deletecollection(self, route: Route, query: Query, raw: bytes) -> None:
        store = self.server.store
        rt = store.resource(route.group, route.plural)
        items, _rv, _ = store.list(route.group, route.plural, namespace=route.namespace,
                                  version=route.version, label_selector=query.get("labelSelector"),
                                  field_selector=query.get("fieldSelector"))
        deleted = [store.delete(route.group, route.plural, item["metadata"]["name"],
                                namespace=item["metadata"].get("namespace"), version=route.version,
                                dry_run=query.dry_run) for item in items]
        self._send_obj(200, {"apiVersion": rt.api_version(route.version), "kind": rt.list_kind,
                             "metadata": {"resourceVersion": store.resource_version}, "items": deleted})
