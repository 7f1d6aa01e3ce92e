"""Fault injection for the embedded API server, switchable at run time.

A test (or `edgefleet sim serve`) holds the `Faults` object it gave `ApiServer` and flips its
fields while clients run. Faults apply to resource requests only (not discovery, OpenAPI,
/version or health checks) unless `include_discovery` is set, so clients can still start.
Random decisions come from one seeded generator, so a run is reproducible for a given seed and
request order.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field

from reconciler.sim.apiserver.errors import ApiError

VERBS = frozenset({"get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"})


@dataclass
class Faults:
    """What to inject. All fields may be changed while the server runs.

    - `latency`: seconds added before answering every affected request.
    - `error_rate`: fraction of affected requests answered 500 InternalError.
    - `throttle_rate`: fraction answered 429 TooManyRequests with `Retry-After: retry_after`.
    - `verbs`: restrict error/throttle injection to these verbs (None: all verbs).
    - `drop_watch_after_events` / `drop_watch_after_seconds`: cut every watch stream (no final
      chunk: the client sees the connection end mid-stream) after that many events or seconds.
    - `watch_event_delay`: seconds every watch event waits before it is sent (a lagging watch:
      the client's cache falls behind the writes it made).
    - `gone_on_resume`: fraction of watches that resume from a resourceVersion answered with a
      410 Gone ERROR event (as if etcd had compacted it): the client must relist.
    - `conflicts`: the next N updates (PUT or PATCH) answer 409 Conflict.
    - `injected`: counts of what was injected, by kind ("error", "throttle", "conflict",
      "drop"), for tests to check.
    """

    latency: float = 0.0
    error_rate: float = 0.0
    throttle_rate: float = 0.0
    retry_after: int = 1
    verbs: frozenset[str] | None = None
    drop_watch_after_events: int | None = None
    drop_watch_after_seconds: float | None = None
    watch_event_delay: float = 0.0
    gone_on_resume: float = 0.0
    conflicts: int = 0
    include_discovery: bool = False
    seed: int | None = None
    injected: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self._lock = threading.Lock()

    def reset(self) -> None:
        """Switch every fault off (counts are kept)."""
        with self._lock:
            self.latency = self.error_rate = self.throttle_rate = self.watch_event_delay = 0.0
            self.gone_on_resume = 0.0
            self.drop_watch_after_events = None
            self.drop_watch_after_seconds = None
            self.conflicts = 0
            self.verbs = None

    def _count(self, kind: str) -> None:
        self.injected[kind] = self.injected.get(kind, 0) + 1

    def request_error(self, verb: str) -> ApiError | None:
        """The error to answer a request with instead of serving it, or None."""
        with self._lock:
            if self.verbs is not None and verb not in self.verbs:
                return None
            if self.error_rate <= 0 and self.throttle_rate <= 0:
                return None
            draw = self._rng.random()
            if draw < self.throttle_rate:
                self._count("throttle")
                return ApiError(429, "TooManyRequests", "the server has received too many requests "
                                "and has asked us to try again later (injected fault)",
                                {"retryAfterSeconds": self.retry_after})
            if draw < self.throttle_rate + self.error_rate:
                self._count("error")
                return ApiError(500, "InternalError", "an error on the server (\"injected fault\") "
                                "has prevented the request from succeeding")
            return None

    def resume_gone(self) -> bool:
        """True when this watch's resume must answer 410 Gone (counted as "gone")."""
        with self._lock:
            if self.gone_on_resume <= 0 or self._rng.random() >= self.gone_on_resume:
                return False
            self._count("gone")
            return True

    def take_conflict(self) -> bool:
        """True (and one fewer pending) when this update must answer 409 Conflict."""
        with self._lock:
            if self.conflicts <= 0:
                return False
            self.conflicts -= 1
            self._count("conflict")
            return True

    def count_drop(self) -> None:
        """Record that a watch stream was cut."""
        with self._lock:
            self._count("drop")
