"""The bounded event history behind watches, and the watch loop that reads it.

Every committed write appends exactly one event carrying the new global resourceVersion to the
history of its resource type (each bounded on its own, as the API server's watch cache is per
type). A watch asking for a version older than its type's history holds answers 410 Gone.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial

from reconciler.sim.apiserver.errors import ApiError
from reconciler.sim.apiserver.selectors import FieldMatcher, LabelMatcher
from reconciler.sim.apiserver.stored import Record, decode

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


class TableHistory:
    """The held events of one resource type, oldest first, and the newest version dropped."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.events: deque[LoggedEvent] = deque()
        self.dropped_rv = 0  # events of this type up to here may be gone

    def append(self, event: LoggedEvent) -> None:
        if len(self.events) >= self.size:
            self.dropped_rv = self.events.popleft().rv
        self.events.append(event)

    def since(self, rv: int) -> list[LoggedEvent]:
        """Held events above `rv`; scanned from the newest end, where followers read."""
        out: list[LoggedEvent] = []
        for event in reversed(self.events):
            if event.rv <= rv:
                break
            out.append(event)
        out.reverse()
        return out


class EventLog:
    """Bounded history of committed events, one history per resource type (so churn of one
    type never expires a watch on another); resourceVersions stay global. Guarded by the
    store's condition variable."""

    def __init__(self, cond: threading.Condition, size: int) -> None:
        self.cond = cond
        self.size = max(1, size)
        self.tables: dict[TableKey, TableHistory] = {}
        self.current_rv = 0

    def _history(self, table: TableKey) -> TableHistory:
        history = self.tables.get(table)
        if history is None:
            history = self.tables[table] = TableHistory(self.size)
        return history

    def append(self, event: LoggedEvent) -> None:
        """Record a committed write and wake every watcher (caller holds the lock)."""
        self._history(event.table).append(event)
        self.current_rv = event.rv
        self.cond.notify_all()

    def check_resume(self, table: TableKey, rv: int) -> None:
        """ApiError 410 when the events of `table` after `rv` are no longer all held (caller
        holds the lock)."""
        dropped = self.dropped_rv(table)
        if rv < dropped:
            raise gone(rv, dropped)

    def dropped_rv(self, table: TableKey) -> int:
        """The newest version of `table` no longer held (0: nothing dropped yet)."""
        history = self.tables.get(table)
        return history.dropped_rv if history is not None else 0

    def since(self, table: TableKey, rv: int) -> list[LoggedEvent]:
        """Events of `table` above `rv` (caller holds the lock and checked resume)."""
        history = self.tables.get(table)
        return history.since(rv) if history is not None else []

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
                self.check_resume(flt.table, pos)
                batch = self.since(flt.table, pos)
                if not batch:
                    wait = bookmark_interval - (now - last_sent) if bookmarks else 0.5
                    if deadline is not None:
                        wait = min(wait, deadline - now)
                    if wait > 0:
                        self.cond.wait(timeout=min(wait, 0.5))
                    self.check_resume(flt.table, pos)
                    batch = self.since(flt.table, pos)
                # every event of this type up to current_rv is in `batch`
                pos = self.current_rv
            for event in batch:
                if flt.matches(event.table, event.record):
                    last_sent = clock()
                    yield event.type, event.record
            if bookmarks and not batch and clock() - last_sent >= bookmark_interval:
                last_sent = clock()
                yield "BOOKMARK", pos
