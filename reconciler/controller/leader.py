"""Leader election on a coordination.k8s.io/v1 Lease, with client-go's rules and defaults.

Only the holder of the Lease writes to the cluster, so two replicas never both create jobs.
The rules are client-go's `tryAcquireOrRenew`: a candidate takes a Lease that does not exist,
that nobody holds (holder ""), or whose record has not changed for `leaseDurationSeconds` as
measured on the candidate's own monotonic clock (so clock skew between replicas does not
matter); the holder renews every `retry_period` and steps down when it has not renewed for
`renew_deadline`. Writes carry the read resourceVersion, so two candidates racing for one
Lease cannot both win (the loser gets 409 Conflict).

`decide` and `still_leading` are the pure state machine; `LeaseElector` is the I/O loop.
"""

from __future__ import annotations

import logging
import random
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import orjson
from kubernetes import client
from kubernetes.client.exceptions import ApiException

log = logging.getLogger("edgefleet.leader")

Action = Literal["create", "take", "renew", "wait"]


@dataclass(frozen=True, slots=True)
class LeaderTiming:
    """client-go's defaults: 15 s lease, 10 s renew deadline, 2 s retry period."""

    lease_duration: float = 15.0
    renew_deadline: float = 10.0
    retry_period: float = 2.0

    def __post_init__(self) -> None:
        if not self.lease_duration > self.renew_deadline > self.retry_period > 0:
            raise ValueError("leader election needs lease duration > renew deadline > retry period > 0")

    @property
    def write_window(self) -> float:
        """Seconds between a leader's last moment of believing it leads (renew deadline) and
        the first moment a peer may take the Lease (lease duration): a write sent just before
        the first must land within this window."""
        return self.lease_duration - self.renew_deadline


@dataclass(frozen=True, slots=True)
class LeaseRecord:
    """The election-relevant fields of a Lease (`holder` "" when released)."""

    holder: str
    lease_duration_seconds: int
    transitions: int
    resource_version: str
    acquire_time: str | None = None

    def unchanged_from(self, other: LeaseRecord | None) -> bool:
        """True when `other` is this very record: every write (a renewal too) bumps the
        resourceVersion, so an equal resourceVersion means nobody renewed in between."""
        return other is not None and other.resource_version == self.resource_version


@dataclass(frozen=True, slots=True)
class Observation:
    """The record a candidate last saw change, and when (its own monotonic clock)."""

    record: LeaseRecord | None
    changed_at: float


def observe(previous: Observation, current: LeaseRecord | None, now: float) -> Observation:
    """Fold a fresh read into the observation: the clock restarts only when the record changed."""
    if current is not None and current.unchanged_from(previous.record):
        return previous
    return Observation(current, now)


def decide(observation: Observation, identity: str, now: float) -> Action:
    """What a candidate does after reading the Lease.

    Returns "create" when no Lease exists, "renew" when it is ours, "take" when it is released
    or expired (unchanged for its leaseDurationSeconds), and "wait" while another holder's
    lease is alive.
    """
    record = observation.record
    if record is None:
        return "create"
    if record.holder == identity:
        return "renew"
    if record.holder and now < observation.changed_at + record.lease_duration_seconds:
        return "wait"
    return "take"


def still_leading(last_renewed: float, now: float, timing: LeaderTiming) -> bool:
    """A holder keeps leading while its last successful renewal is within the renew deadline."""
    return now - last_renewed < timing.renew_deadline


def default_identity() -> str:
    """`<hostname>_<uuid>`, as client-go suggests: unique per process."""
    return f"{socket.gethostname()}_{uuid.uuid4()}"


def _record(lease: dict[str, Any]) -> LeaseRecord:
    spec = lease.get("spec") or {}
    return LeaseRecord(
        holder=spec.get("holderIdentity") or "",
        lease_duration_seconds=int(spec.get("leaseDurationSeconds") or 0),
        transitions=int(spec.get("leaseTransitions") or 0),
        resource_version=str(lease["metadata"].get("resourceVersion", "")),
        acquire_time=spec.get("acquireTime"),
    )


class LeaseElector:
    """Campaigns for one Lease in a background thread and keeps `is_leader()` current.

    Calls `on_started` when it becomes the leader and `on_stopped` when it loses or releases
    the Lease (both from its own thread; they must return quickly).
    """

    def __init__(self, coordination: client.CoordinationV1Api, *, name: str, namespace: str,
                 identity: str, timing: LeaderTiming = LeaderTiming(),
                 on_started: Callable[[], None] = lambda: None,
                 on_stopped: Callable[[], None] = lambda: None,
                 clock: Callable[[], float] = time.monotonic,
                 wall_clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                 take_free: Callable[[], bool] = lambda: True) -> None:
        self._api = coordination
        self.name, self.namespace, self.identity = name, namespace, identity
        self._timing = timing
        self._on_started, self._on_stopped = on_started, on_stopped
        self._clock, self._wall = clock, wall_clock
        self._take_free = take_free  # asked every round of start()'s loop (see try_once)
        self._observation = Observation(None, clock())
        self._leading = threading.Event()
        self._last_renewed = 0.0  # when the last successful create/renew/take was *sent*
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()  # one Lease write at a time (loop vs release)
        self._state_lock = threading.Lock()  # leading -> not leading happens once
        # A request that hangs must not outlive the renew deadline (client-go's context timeout).
        self._request_timeout = timing.renew_deadline

    def is_leader(self) -> bool:
        """True while this process holds a live Lease (checked before every write)."""
        if self._leading.is_set() and not still_leading(self._last_renewed, self._clock(), self._timing):
            self._step_down("renew deadline passed")
        return self._leading.is_set()

    def start(self) -> None:
        """Start campaigning in a daemon thread."""
        self._thread = threading.Thread(target=self._run, name="leader-election", daemon=True)
        self._thread.start()

    def stop(self, *, release: bool = True) -> None:
        """Stop campaigning; with `release`, hand the Lease back so a peer takes over at once.

        `release=False` simulates a crash: the Lease stays held until it expires.
        """
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self._timing.retry_period + 5)
        if release and self._leading.is_set():
            self._release()
        self._step_down("stopped")

    def try_once(self, *, take_free: bool = True) -> bool:
        """One round of client-go's tryAcquireOrRenew; True when we hold the Lease after it
        (then the renew deadline counts from when the winning write was sent, and `on_started`
        runs if we were not leading). With `take_free=False`, a Lease that nobody holds (absent
        or released) is left alone; an expired one is still taken. Raises the client's
        ApiException when the API cannot be read or written."""
        with self._lock:  # with the write: a concurrent release() cannot slip in between
            held = self._try_once_locked(take_free)
            started = held and not self._leading.is_set()
            if started:
                self._leading.set()
        if started:
            log.info("leader election: acquired Lease %s/%s as %s", self.namespace, self.name, self.identity)
            self._on_started()
        return held

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.try_once(take_free=self._leading.is_set() or self._take_free())
            except Exception as exc:  # API down or odd answer: stay a candidate, retry
                log.warning("leader election: cannot read or write Lease %s/%s: %s",
                            self.namespace, self.name, exc)
            self.is_leader()  # steps down once the renew deadline has passed
            # client-go jitters the candidate's retry so that peers do not collide forever.
            pause = self._timing.retry_period
            if not self._leading.is_set():
                pause *= 1 + random.uniform(0.0, 0.2)
            self._stop.wait(pause)

    def release(self) -> None:
        """Stop leading and hand the Lease back at once (a peer may take it now); the caller
        makes sure no write of ours is still in flight. Campaigning, if started, goes on."""
        with self._lock:
            self._step_down("released")
            self._release_locked()

    def observed_holder(self) -> str:
        """Who holds the Lease as last read: "" when nobody does or the lease has expired on
        this replica's clock."""
        observation = self._observation
        record = observation.record
        if record is None or not record.holder:
            return ""
        if record.holder != self.identity and \
                self._clock() >= observation.changed_at + record.lease_duration_seconds:
            return ""
        return record.holder

    def _try_once_locked(self, take_free: bool = True) -> bool:
        try:
            lease = self._api.read_namespaced_lease(self.name, self.namespace, _preload_content=False,
                                                    _request_timeout=self._request_timeout)
            current: LeaseRecord | None = _record(_json(lease))
        except ApiException as exc:
            if exc.status != 404:
                raise
            current = None
        # The clock is read once the answer is in (as client-go does): a change the read saw may
        # have happened at any moment until then, so dating it earlier would expire it early.
        now = self._clock()
        self._observation = observe(self._observation, current, now)
        action = decide(self._observation, self.identity, now)
        if action == "wait" or (not take_free and action != "renew" and not (current and current.holder)):
            return False
        sent_at = self._clock()
        if action == "create":
            body = self._body(None, taking=True)
            answer = self._api.create_namespaced_lease(self.namespace, body, _preload_content=False,
                                                       _request_timeout=self._request_timeout)
        else:
            assert current is not None
            body = self._body(current, taking=action == "take")
            try:
                answer = self._api.replace_namespaced_lease(self.name, self.namespace, body,
                                                            _preload_content=False,
                                                            _request_timeout=self._request_timeout)
            except ApiException as exc:
                if exc.status == 409:  # a peer wrote first: it won this round
                    return False
                raise
        self._observation = Observation(_record(_json(answer)), self._clock())
        # Dated from the send, not the answer: a peer may see the write (and start counting its
        # lease duration) at any moment after it was sent.
        self._last_renewed = sent_at
        return True

    def _body(self, current: LeaseRecord | None, *, taking: bool, releasing: bool = False) -> client.V1Lease:
        now = self._wall()
        acquired = now
        if current is not None and not taking and current.acquire_time:
            acquired = datetime.fromisoformat(current.acquire_time)
        spec = client.V1LeaseSpec(
            holder_identity="" if releasing else self.identity,
            lease_duration_seconds=1 if releasing else int(self._timing.lease_duration),
            renew_time=now,
            acquire_time=acquired,
            lease_transitions=(current.transitions + (1 if taking else 0)) if current else 0,
        )
        metadata = client.V1ObjectMeta(name=self.name, namespace=self.namespace,
                                       resource_version=current.resource_version if current else None)
        return client.V1Lease(api_version="coordination.k8s.io/v1", kind="Lease", metadata=metadata,
                              spec=spec)

    def _release(self) -> None:
        with self._lock:
            self._release_locked()

    def _release_locked(self) -> None:
        # client-go's release: keep the record, clear the holder, shorten the lease to 1 s.
        record = self._observation.record
        if record is None or record.holder != self.identity:
            return
        body = self._body(record, taking=False, releasing=True)
        try:
            answer = self._api.replace_namespaced_lease(self.name, self.namespace, body,
                                                        _preload_content=False,
                                                        _request_timeout=self._request_timeout)
            self._observation = Observation(_record(_json(answer)), self._clock())
            log.info("leader election: released Lease %s/%s", self.namespace, self.name)
        except Exception as exc:
            log.warning("leader election: could not release Lease %s/%s (it expires by "
                        "itself): %s", self.namespace, self.name, exc)

    def _step_down(self, why: str) -> None:
        with self._state_lock:
            if not self._leading.is_set():
                return
            self._leading.clear()
        # Stopping on purpose is routine; losing the Lease while running is worth a warning.
        log.log(logging.INFO if why in ("stopped", "released") else logging.WARNING,
                "leader election: no longer the leader of Lease %s/%s (%s)", self.namespace, self.name, why)
        self._on_stopped()


def _json(response: Any) -> dict[str, Any]:
    data: dict[str, Any] = orjson.loads(response.data)
    return data


