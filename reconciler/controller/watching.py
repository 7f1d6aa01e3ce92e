"""List+watch loops that tell the work queue when the cluster changed in a way that matters.

One loop per resource (Nodes, managed ImagePrePullJobs, EdgeNodeInventory): list (paged),
remember each object's *fingerprint* (only the fields planning reads: labels, readiness, image
names, job status; never heartbeat times, which change every few seconds), then watch from the
list's resourceVersion. A watch that ends or drops resumes from the last resourceVersion seen,
so no event is missed; a 410 Gone (history compacted) relists and diffs the fingerprints.
Only a changed fingerprint queues a cycle. With a `cache` (caches.FactCache), the loop also
keeps the typed facts of every object, updated before the queue is woken (the daemon plans
from them: docs/controller.md, "Watch caches"). The client's informers do not handle custom objects
in kubernetes 37, hence this loop over raw `_preload_content=False` streams.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import orjson
from kubernetes.client.exceptions import ApiException

from reconciler.controller.caches import FactCache

log = logging.getLogger("edgefleet.watch")

Obj = dict[str, Any]
ListFunction = Callable[..., Any]

MANAGED_SELECTOR = "app.kubernetes.io/managed-by=edgefleet"

#: client-go's reflector backoff: 0.8 s doubling to 30 s between failed lists or watches.
BACKOFF_BASE_SECONDS = 0.8
BACKOFF_MAX_SECONDS = 30.0
#: A stream open at least this long, or one that delivered an event or a bookmark, was
#: healthy: the next watch starts at once and the backoff starts over.
STABLE_STREAM_SECONDS = 5.0


def node_fingerprint(node: Obj) -> str:
    """What planning reads of a Node: labels, Ready, unschedulable, reported image names."""
    status = node.get("status") or {}
    ready = next((c.get("status") for c in status.get("conditions") or []
                  if c.get("type") == "Ready"), None)
    images = sorted(n for i in status.get("images") or [] for n in i.get("names") or [])
    return _digest([node["metadata"].get("labels") or {}, ready,
                    (node.get("spec") or {}).get("unschedulable", False), images])


def object_fingerprint(obj: Obj) -> str:
    """What planning reads of a job or an inventory: labels, spec, status and the deletion
    mark, without timestamps (a job's actionFlow times move on every report; what matters is
    a phase or an image status changing)."""
    meta = obj["metadata"]
    return _digest([meta.get("labels") or {}, meta.get("deletionTimestamp"), obj.get("spec"),
                    _without_times(obj.get("status"))])


def _without_times(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_times(v) for k, v in value.items()
                if not (k == "time" or k.endswith("Time") or k == "observedAt")}
    if isinstance(value, list):
        return [_without_times(v) for v in value]
    return value


def _digest(parts: list[Any]) -> str:
    return hashlib.sha256(orjson.dumps(parts, option=orjson.OPT_SORT_KEYS)).hexdigest()


@dataclass(frozen=True)
class WatchTarget:
    """A resource to watch: its name for logs, its list call and how to fingerprint it.

    `list_call(**params)` is a client list method bound to its group/version/plural (for custom
    objects, a functools.partial of `list_cluster_custom_object`).
    """

    resource: str
    list_call: ListFunction
    fingerprint: Callable[[Obj], str] = object_fingerprint
    label_selector: str = ""


class ResourceWatch:
    """Keeps one resource's fingerprints current and calls `on_change(reason)` when one changes.

    `run()` loops until `stop()`; counters (`relists`, `resumes`, `events`, `bookmarks`) and the
    backoff delays it waited (`delays`) are for tests and logs. `clock` measures how long a
    stream stayed open, `pause(seconds)` waits between attempts (default: until `stop()`).
    """

    def __init__(self, target: WatchTarget, on_change: Callable[[str], None], *,
                 on_state: Callable[[str, str], None] = lambda resource, state: None,
                 page_size: int = 500, watch_seconds: int = 300,
                 backoff_max: float = BACKOFF_MAX_SECONDS, clock: Callable[[], float] = time.monotonic,
                 pause: Callable[[float], object] | None = None,
                 cache: FactCache[Any] | None = None) -> None:
        self.target = target
        self.cache = cache
        self._on_change, self._on_state = on_change, on_state
        self._page_size, self._watch_seconds, self._backoff_max = page_size, watch_seconds, backoff_max
        self._stop = threading.Event()
        self._stream_lock = threading.Lock()  # orders stop() against a stream being opened
        self._clock = clock
        self._pause = pause if pause is not None else self._stop.wait
        self._response: Any = None
        self.fingerprints: dict[str, str] = {}
        self.resource_version: str | None = None
        self.relists = 0
        self.resumes = 0
        self.events = 0
        self.bookmarks = 0
        self.delays: list[float] = []
        self.synced = threading.Event()  # set after the first list
        self._last_failure = ""
        self._opened_at: float | None = None  # when the current watch got its 200 (None: not yet)

    def stop(self) -> None:
        """End `run()` soon: the open stream is shut down so the blocked read returns."""
        with self._stream_lock:
            self._stop.set()
            response = self._response
        if response is not None:
            try:
                response.shutdown()  # urllib3 2.3+: unblocks a read from another thread
            except Exception as exc:  # already closed: nothing to unblock
                log.debug("watch %s: shutdown: %s", self.target.resource, exc)

    def run(self) -> None:
        """List, then watch and resume until stopped; errors back off and never end the loop."""
        failures = 0
        while not self._stop.is_set():
            delivered, self._opened_at = self.events + self.bookmarks, None
            try:
                if self.resource_version is None:
                    self._relist()
                self._on_state(self.target.resource, "watching")
                self._watch_once()
                why = "the stream ended"
            except ApiException as exc:
                if exc.status == 410:
                    log.info("watch %s: resourceVersion %s expired (410 Gone); relisting",
                             self.target.resource, self.resource_version)
                    self.resource_version = None
                    continue
                why = f"HTTP {exc.status} {exc.reason}"
            except Exception as exc:  # connection dropped, discovery failed, odd answer: retry
                why = f"{type(exc).__name__}: {exc}"
            if self._stop.is_set():
                break
            opened_at = self._opened_at
            if opened_at is not None:
                self.resumes += 1  # resume from the last resourceVersion seen
            progressed = self.events + self.bookmarks > delivered
            if progressed or (opened_at is not None and self._clock() - opened_at >= STABLE_STREAM_SECONDS):
                failures, self._last_failure = 0, ""
                continue
            # Failed, or cut before it delivered anything (a proxy, a restarting server): back
            # off, so a server that accepts and hangs up is not asked 20 times a second.
            failures += 1
            self._failed(why, failures)

    def _failed(self, why: str, failures: int) -> None:
        delay = min(self._backoff_max, BACKOFF_BASE_SECONDS * 2 ** min(failures - 1, 10))
        self._on_state(self.target.resource, f"retrying ({why})")
        if why != self._last_failure:  # one line per new problem, not one per retry
            log.warning("watch %s: %s; retrying with backoff", self.target.resource, why)
        self._last_failure = why
        self.delays.append(delay)
        self._pause(delay)

    def _relist(self) -> None:
        fresh: dict[str, str] = {}
        facts: dict[str, Any] = {}
        token: str | None = None
        version = ""
        while True:
            params: dict[str, Any] = {"limit": self._page_size}
            if token:
                params["_continue"] = token
            if self.target.label_selector:
                params["label_selector"] = self.target.label_selector
            response = self.target.list_call(**params, _preload_content=False, _request_timeout=60)
            try:
                page = orjson.loads(response.data)
                if self.cache is not None:
                    facts.update(self.cache.decode_page(response.data))
            finally:
                response.release_conn()
            for item in page.get("items") or []:
                fresh[item["metadata"]["name"]] = self.target.fingerprint(item)
            meta = page.get("metadata") or {}
            token, version = meta.get("continue"), str(meta.get("resourceVersion") or "")
            if not token:
                break
        changed = sum(1 for k in fresh.keys() | self.fingerprints.keys()
                      if fresh.get(k) != self.fingerprints.get(k))
        first = not self.synced.is_set()
        self.fingerprints, self.resource_version = fresh, version
        if self.cache is not None:
            self.cache.replace(facts)
        self.relists += 1
        self.synced.set()
        if changed and not first:
            self._on_change(f"{self.target.resource}: {changed} changed on relist")
        elif first:
            self._on_change(f"{self.target.resource}: listed {len(fresh)}")

    def _watch_once(self) -> None:
        params: dict[str, Any] = {
            "watch": True, "resource_version": self.resource_version, "allow_watch_bookmarks": True,
            "timeout_seconds": self._watch_seconds,
        }
        if self.target.label_selector:
            params["label_selector"] = self.target.label_selector
        response = self.target.list_call(**params, _preload_content=False,
                                         _request_timeout=(10, self._watch_seconds + 30))
        with self._stream_lock:
            if self._stop.is_set():  # stop() came while the stream was opening: nothing to unblock it
                response.close()  # unread: never hand this connection back to the pool
                response.release_conn()
                return
            self._response = response
        self._opened_at = self._clock()
        try:
            for line in _lines(response):
                if self._stop.is_set():
                    return
                self._handle(orjson.loads(line))
        finally:
            self._response = None
            response.release_conn()

    def _handle(self, event: Obj) -> None:
        kind, obj = event.get("type"), event.get("object") or {}
        if kind == "ERROR":
            code = int(obj.get("code") or 500)
            raise ApiException(status=code, reason=str(obj.get("reason") or obj.get("message") or ""))
        meta = obj.get("metadata") or {}
        if meta.get("resourceVersion"):
            self.resource_version = str(meta["resourceVersion"])
        if kind == "BOOKMARK":
            self.bookmarks += 1
            return
        self.events += 1
        name = meta.get("name", "")
        if self.cache is not None:  # before the queue hears of it: a woken cycle sees the event
            if kind == "DELETED":
                self.cache.remove(name)
            else:
                self.cache.put(obj)
        if kind == "DELETED":
            if self.fingerprints.pop(name, None) is not None:
                self._on_change(f"{self.target.resource}/{name} deleted")
            return
        fingerprint = self.target.fingerprint(obj)
        if self.fingerprints.get(name) != fingerprint:
            verb = "added" if name not in self.fingerprints else "changed"
            self.fingerprints[name] = fingerprint
            self._on_change(f"{self.target.resource}/{name} {verb}")


def _lines(response: Any) -> Iterator[bytes]:
    """The newline-delimited JSON events of a watch response, as they arrive."""
    pending = b""
    for chunk in response.stream(64 * 1024, decode_content=True):
        pending += chunk
        *complete, pending = pending.split(b"\n")
        for line in complete:
            if line.strip():
                yield line
    if pending.strip():
        yield pending


class WatchGroup:
    """Runs several ResourceWatch loops in daemon threads."""

    def __init__(self, watches: list[ResourceWatch]) -> None:
        self.watches = watches
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        for watch in self.watches:
            thread = threading.Thread(target=watch.run, name=f"watch-{watch.target.resource}",
                                      daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout: float = 5.0) -> None:
        for watch in self.watches:
            watch.stop()
        for thread in self._threads:
            thread.join(timeout=timeout)

    def wait_synced(self, timeout: float) -> bool:
        """True once every loop has listed once (within `timeout` seconds each)."""
        return all(w.synced.wait(timeout) for w in self.watches)
