"""The simulation loop: a timed-event queue over a `Clock`, store notifications, and one
background thread that runs simulated KubeEdge against the Store.

All simulated state (edge nodes, executors) is touched only under `Simulation.lock`: by the
loop thread, by `step`/`advance` (tests with a manual clock, no thread), and by the public
handles that change a node's behaviour. Store subscribe callbacks only enqueue: every write
happens later, from the loop (the store forbids writing back from a callback).
"""

from __future__ import annotations

import heapq
import itertools
import threading
from collections import deque
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Protocol

from reconciler.sim.apiserver.errors import Obj
from reconciler.sim.apiserver.resource_types import ResourceType
from reconciler.sim.apiserver.store import Store
from reconciler.sim.clock import Clock, ManualClock

Action = Callable[[datetime], None]
MAX_REAL_WAIT = 0.05  # seconds: how long the loop sleeps at most between checks


class Controller(Protocol):
    """A simulated controller: reacts to store changes and to its own timed events."""

    def notify(self, event: str, rt: ResourceType, obj: Obj) -> None:
        """Called from the loop (not from the store's callback) for every store change."""
        ...


class Simulation:
    """Timed events + store notifications, run in order of simulated time."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock
        self.lock = threading.RLock()
        self.controllers: list[Controller] = []
        self._heap: list[tuple[datetime, int, Action]] = []
        self._seq = itertools.count()
        self._inbox: deque[tuple[str, ResourceType, Obj]] = deque()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._unsubscribe = store.subscribe(self._on_store_change)
        self.errors: list[BaseException] = []

    # ----- scheduling -----

    def at(self, when: datetime, action: Action) -> None:
        """Run `action(when)` once simulated time reaches `when`."""
        with self.lock:
            heapq.heappush(self._heap, (when, next(self._seq), action))
        self._wake.set()

    def after(self, seconds: float, action: Action) -> None:
        """Run `action` `seconds` of simulated time from now."""
        self.at(self.clock.now() + timedelta(seconds=seconds), action)

    def _on_store_change(self, event: str, rt: ResourceType, obj: Obj) -> None:
        # Called under the store lock, maybe from our own thread: queue only.
        self._inbox.append((event, rt, obj))
        self._wake.set()

    # ----- running -----

    def step(self) -> int:
        """Deliver queued store changes and run every event due now; returns how many ran.
        Store changes made by the events are delivered in the same call."""
        done = 0
        with self.lock:
            while True:
                if self._inbox:
                    event, rt, obj = self._inbox.popleft()
                    for controller in self.controllers:
                        controller.notify(event, rt, obj)
                    done += 1
                    continue
                if self._heap and self._heap[0][0] <= self.clock.now():
                    when, _, action = heapq.heappop(self._heap)
                    action(when)
                    done += 1
                    continue
                return done

    def next_due(self) -> datetime | None:
        with self.lock:
            return self._heap[0][0] if self._heap else None

    def advance(self, seconds: float) -> None:
        """Manual clock only: move time forward by `seconds`, running every event at its own
        time, in order (tests call this instead of sleeping)."""
        clock = self.clock
        if not isinstance(clock, ManualClock):
            raise TypeError("advance() needs a ManualClock")
        target = clock.now() + timedelta(seconds=seconds)
        self.step()
        while True:
            due = self.next_due()
            if due is None or due > target:
                break
            if due > clock.now():
                clock.set(due)
            self.step()
        clock.set(target)
        self.step()

    def start(self) -> None:
        """Run the loop in a daemon thread (real clock)."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="sim-kubeedge", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.step()
            except Exception as exc:  # keep simulating; tests inspect `errors`
                self.errors.append(exc)
            due = self.next_due()
            wait = MAX_REAL_WAIT if due is None else min(MAX_REAL_WAIT,
                                                         self.clock.real_seconds_until(due))
            if self._inbox:
                continue
            self._wake.wait(wait)
            self._wake.clear()

    def stop(self) -> None:
        """Stop the loop thread (joined) and stop listening to the store."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        self._unsubscribe()
