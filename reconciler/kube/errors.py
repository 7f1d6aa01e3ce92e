"""The errors of the Kubernetes adapter, classified by what the caller should do next.

Every message is one line a user can read (object, HTTP code, the server's reason), never a
traceback and never a credential. The cycle maps the classes onto the outcome vocabulary:
`ApiBusy` waits (retry after the server's delay), `ApiUnavailable` is transient (back off),
`ApiRejected` and `KubeConfigError` need a human.
"""

from __future__ import annotations

from typing import Any

import orjson


class KubeError(Exception):
    """Base class: a Kubernetes problem; `str()` is one clear line."""

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(message.split()))


class KubeConfigError(KubeError):
    """The kubeconfig file or context cannot be used (missing, malformed, unknown context)."""


class ApiBusy(KubeError):
    """The API server kept answering 429 Too Many Requests; retry after `retry_after` seconds."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ApiUnavailable(KubeError):
    """The API server kept failing (5xx, connection refused, timeout): transient."""


class Fenced(KubeError):
    """A write was not sent because its fence closed (the writer lost the Lease or is stopping)."""


class ApiRejected(KubeError):
    """The API server refused a request for good (4xx other than 429): `code` and `reason`."""

    def __init__(self, message: str, code: int, reason: str) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason


def status_of(body: bytes | str | None) -> tuple[str, str]:
    """The (reason, message) of a Kubernetes `Status` body; ('', '') when it is not one."""
    if not body:
        return "", ""
    try:
        status: Any = orjson.loads(body)
    except orjson.JSONDecodeError:
        return "", ""
    if not isinstance(status, dict):
        return "", ""
    return str(status.get("reason") or ""), str(status.get("message") or "")
