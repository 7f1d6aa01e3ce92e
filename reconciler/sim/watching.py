"""The bounded event history behind watches, and the watch loop that reads it.

Every committed write appends exactly one event carrying the new global resourceVersion, so
event `rv` sits at index `rv - first_rv` of the history: a resume point is found by arithmetic.
A watch asking for a version older than the history holds answers 410 Gone.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial

from reconciler.sim.errors import ApiError
from reconciler.sim.records import Record, decode
from reconciler.sim.selectors import FieldMatcher, LabelMatcher

TableKey = tuple[str, str]  # (group, plural)


@dataclass(frozen=True, slots=True)
class LoggedEvent:
    rv: int
    type: str  # ADDED | MODIFIED | DELETED
    table: TableKey
    record: Record


@dataclass(frozen=True)
class WatchFilter:
    table: TableKey
    namespace: str | None
    labels: LabelMatcher | None
    fields: FieldMatcher | None

    def matches(self, table: TableKey, record: Record) -> bool:
        if table != self.table:
            return False
        if self.namespace is not None and record.namespace != self.namespace:
            return False
        if self.labels is not None and not self.labels(record.labels):
            return False
        return self.fields is None or self.fields(record.name, record.namespace, partial(decode, record))


def gone(requested: int, oldest: int) -> ApiError:
    """410 Gone for a watch resume point older than the history."""
    return ApiError(410, "Expired", f"too old resource version: {requested} ({oldest})")


class EventLog:
    """Bounded history of committed events; guarded by the store's condition variable."""

    def __init__(self, cond: threading.Condition, size: int) -> None:
        self.cond = cond
        self.events: deque[LoggedEvent] = deque(maxlen=max(1, size))
        self.current_rv = 0

    @property
    def first_rv(self) -> int:
        """The oldest resourceVersion still held (current+1 when the history is empty)."""
        return self.events[0].rv if self.events else self.current_rv + 1

    def append(self, event: LoggedEvent) -> None:
        """Record a committed write and wake every watcher (caller holds the lock)."""
        self.events.append(event)
        self.current_rv = event.rv
        self.cond.notify_all()

    def check_resume(self, rv: int) -> None:
        """ApiError 410 when events after `rv` are no longer all held (caller holds the lock)."""
        if rv < self.first_rv - 1:
            raise gone(rv, self.first_rv - 1)

    def since(self, rv: int) -> list[LoggedEvent]:
        """Events with a resourceVersion above `rv` (caller holds the lock and checked resume)."""
        start = rv + 1 - self.first_rv
        if start >= len(self.events):
            return []
        return [self.events[i] for i in range(max(0, start), len(self.events))]

    def follow(self, start_rv: int, flt: WatchFilter, *, bookmarks: bool, bookmark_interval: float,
               timeout: float | None, stop: threading.Event | None,
               clock: Callable[[], float] = time.monotonic) -> Iterator[tuple[str, Record | int]]:
        """Yield ("ADDED"|"MODIFIED"|"DELETED", record) after `start_rv`, and ("BOOKMARK", rv)
        when idle for `bookmark_interval` with bookmarks on. Ends after `timeout` seconds or when
        `stop` is set; raises ApiError 410 if the watcher falls behind the history."""
        pos = start_rv
        deadline = None if timeout is None else clock() + timeout
        last_sent = clock()
        while True:
            now = clock()
            if (stop is not None and stop.is_set()) or (deadline is not None and now >= deadline):
                return
            with self.cond:
                self.check_resume(pos)
                batch = self.since(pos)
                if not batch:
                    wait = bookmark_interval - (now - last_sent) if bookmarks else 0.5
                    if deadline is not None:
                        wait = min(wait, deadline - now)
                    if wait > 0:
                        self.cond.wait(timeout=min(wait, 0.5))
                    self.check_resume(pos)
                    batch = self.since(pos)
                pos = self.current_rv if not batch else batch[-1].rv
            for event in batch:
                if flt.matches(event.table, event.record):
                    last_sent = clock()
                    yield event.type, event.record
            if bookmarks and not batch and clock() - last_sent >= bookmark_interval:
                last_sent = clock()
                yield "BOOKMARK", pos
