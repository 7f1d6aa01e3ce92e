"""The embedded API server's request log: who asked for what, as RBAC sees a request.

Every resource request is recorded as (user, groups, verb, API group, resource, subresource,
namespace, name) before it is served, so a test can hold a component's calls against the RBAC
rules it is installed with. The user is the one a request impersonates (`Impersonate-User`,
`Impersonate-Group`: what cloudcore does for an edge node's MetaServer), else "admin" (the
kubeconfig's token stands for a cluster admin). Credentials themselves are never recorded. The
User-Agent is kept too, so a test can tell replicas that share one user apart.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Request:
    """One resource request in RBAC's terms (`group` is "" for the core API)."""

    user: str
    groups: tuple[str, ...]
    verb: str
    group: str
    resource: str
    subresource: str
    namespace: str
    name: str
    # Not part of what RBAC judges, so not compared: the User-Agent header (who sent it, when
    # the client says) and a create's object name, from its body (the path names none).
    agent: str = field(default="", compare=False)
    created: str = field(default="", compare=False)


class RequestLog:
    """A thread-safe, bounded list of Requests (the oldest are dropped beyond `limit`)."""

    def __init__(self, limit: int = 100_000) -> None:
        self._lock = threading.Lock()
        self._requests: list[Request] = []
        self.limit = limit  # may be raised while serving (a long chaos run keeps everything)

    def record(self, request: Request) -> None:
        with self._lock:
            self._requests.append(request)
            if len(self._requests) > self.limit:
                del self._requests[: len(self._requests) - self.limit]

    def __len__(self) -> int:
        """How many are held (an index into `requests()` for whoever samples alongside)."""
        with self._lock:
            return len(self._requests)

    def requests(self) -> list[Request]:
        """A copy of what was recorded, oldest first."""
        with self._lock:
            return list(self._requests)

    def clear(self) -> None:
        with self._lock:
            self._requests.clear()
