"""The one seam between edgefleet and a Kubernetes API server.

A `Session` wraps the official client (kubeconfig, TLS, auth) and sends every request through
the same three steps: take a QPS token, call with `_preload_content=False` (the caller decodes
the raw body: the client's model deserialization is an order of magnitude slower at fleet
size), retry 429 and 5xx with backoff honouring Retry-After. Errors come out as `KubeError`s.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import urllib3
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

from reconciler.kube.errors import (
    ApiBusy,
    ApiRejected,
    ApiUnavailable,
    Fenced,
    KubeConfigError,
    status_of,
)
from reconciler.kube.throttle import Clock, RetryPolicy, Sleep, TokenBucket, parse_retry_after

#: Transient server answers: retried, then reported as waiting (429) or transient (the rest).
RETRIED_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True, slots=True)
class ClientSettings:
    """How politely to talk to the API server (client-go's defaults are qps 5, burst 10;
    a reconciler that lists 100,000 nodes in pages of 500 needs a little more)."""

    qps: float = 20.0
    burst: int = 40
    page_size: int = 500
    request_timeout: float = 60.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    # Inventory writes in flight at once (kube.applying): one per node is most of a rollout's
    # writes, and one at a time each waits a round trip. The QPS bucket still bounds the rate.
    write_concurrency: int = 8


@dataclass(frozen=True, slots=True)
class WriteFence:
    """What guards a write that must not land once the writer lost the right to write (the
    daemon's Lease): `may_send()` is asked before every attempt, retries included; each attempt
    gives up after `request_timeout` seconds, and no attempt starts later than `budget` seconds
    after the first. So a write ends within `budget + request_timeout` seconds: the daemon keeps
    that below lease duration - renew deadline, the time a lost Lease stays free of a new holder."""

    may_send: Callable[[], bool]
    request_timeout: float
    budget: float
    closed: str = "no longer allowed to write"  # why a closed fence refuses, for messages


class Session:
    """A connection to one API server. `call` is the only way requests leave edgefleet."""

    def __init__(self, api_client: client.ApiClient, settings: ClientSettings | None = None, *,
                 clock: Clock = time.monotonic, sleep: Sleep = time.sleep) -> None:
        self.settings = settings or ClientSettings()
        self.api_client = api_client
        self.core = client.CoreV1Api(api_client)
        self.custom = client.CustomObjectsApi(api_client)
        self.apis = client.ApisApi(api_client)
        self.bucket = TokenBucket(self.settings.qps, self.settings.burst, clock=clock, sleep=sleep)
        self._clock, self._sleep = clock, sleep
        self.requests = 0  # requests sent, retries included (for tests and metrics)
        self._count_lock = threading.Lock()  # writes are sent from several threads

    @classmethod
    def from_kubeconfig(cls, kubeconfig: Path | str | None, context: str | None = None,
                        settings: ClientSettings | None = None) -> Session:
        """Connect as `kubectl --kubeconfig FILE --context C` would (None: the usual defaults).

        Raises KubeConfigError when the file or context cannot be used.
        """
        configuration = client.Configuration()
        try:
            config.load_kube_config(  # type: ignore[no-untyped-call]
                config_file=str(kubeconfig) if kubeconfig is not None else None,
                context=context, client_configuration=configuration, persist_config=False)
        except Exception as error:  # ConfigException, OSError, PyYAML errors, ...
            # Whatever breaks while reading a kubeconfig is the user's file, not our bug.
            where = f"kubeconfig {kubeconfig}" if kubeconfig else "kubeconfig"
            raise KubeConfigError(f"{where}: {error}") from None
        # One retry policy only (ours): urllib3's own retries would multiply the attempts.
        configuration.retries = False
        settings = settings or ClientSettings()
        # Concurrent writes plus the watches and the Lease each hold a pooled connection: a pool
        # smaller than that opens and discards connections (urllib3 "pool is full").
        configuration.connection_pool_maxsize = max(
            configuration.connection_pool_maxsize, settings.write_concurrency + 8)
        return cls(client.ApiClient(configuration), settings)

    def close(self) -> None:
        """Release the connection pool."""
        self.api_client.close()  # type: ignore[no-untyped-call]

    def pause(self, seconds: float) -> None:
        """Wait through the session's injected `sleep` (polling loops use it, tests fake it)."""
        self._sleep(seconds)

    def call(self, what: str, request: Callable[..., Any], /, *, fence: WriteFence | None = None,
             **params: Any) -> bytes:
        """Send `request(**params)` and return the raw response body.

        `what` names the object for messages ("create imageprepulljobs/ef-a-1b2c"). With a
        `fence`, every attempt first asks `fence.may_send()` and runs within the fence's time
        bounds (see WriteFence). Raises ApiBusy after repeated 429s, ApiUnavailable after
        repeated 5xx or connection failures (or once the fence's budget is spent), ApiRejected
        at once for any other error status (404, 409, 422, ...), Fenced when the fence closed
        before an attempt (nothing more was sent).
        """
        policy = self.settings.retry
        timeout = self.settings.request_timeout if fence is None else fence.request_timeout
        give_up_at = None if fence is None else self._clock() + fence.budget
        attempt = 0
        while True:
            attempt += 1
            self.bucket.acquire()
            if fence is not None and not fence.may_send():
                raise Fenced(f"{what}: not sent after {attempt - 1} attempts: {fence.closed}")
            with self._count_lock:
                self.requests += 1
            try:
                response = request(**params, _preload_content=False, _request_timeout=timeout)
                try:
                    return bytes(response.data)
                finally:
                    response.release_conn()
            except ApiException as error:
                code = int(error.status or 0)
                reason, message = status_of(error.body)
                if code not in RETRIED_STATUSES:
                    raise ApiRejected(
                        f"{what}: HTTP {code} {reason or error.reason}: {message}".rstrip(": "),
                        code, reason or str(error.reason or "")) from None
                retry_after = parse_retry_after(_header(error, "Retry-After"))
                failure = f"{what}: HTTP {code} {reason or error.reason} after {attempt} attempts"
            except urllib3.exceptions.HTTPError as error:
                code, retry_after = 0, None
                failure = f"{what}: API server unreachable after {attempt} attempts ({error})"
            delay = policy.delay(attempt, retry_after)
            out_of_time = give_up_at is not None and self._clock() + delay > give_up_at
            if attempt >= policy.max_attempts or out_of_time:
                if code == 429:
                    raise ApiBusy(failure, delay)
                raise ApiUnavailable(failure)
            self._sleep(delay)


def _header(error: ApiException, name: str) -> str | None:
    headers = error.headers
    if headers is None:
        return None
    value = headers.get(name)
    return None if value is None else str(value)
