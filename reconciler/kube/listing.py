"""Paged LIST straight into typed facts: never the client's models, never the whole list as dicts.

A 100,000-node list is about 1.3 GB of JSON. Each page (`limit`, `continue`) is decoded by the
caller's msgspec decoder into the few fields the planner needs, then dropped, so memory holds
one page of raw bytes plus the facts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

import msgspec

from reconciler.kube.errors import ApiRejected, KubeError
from reconciler.kube.session import Session

T = TypeVar("T")

#: A continue token expires (410 Gone) when the list outlives etcd compaction; start over
#: this many times before giving up.
MAX_LIST_RESTARTS = 3


class _ListMeta(msgspec.Struct):
    # `continue` is a Python keyword: rename the field.
    continue_: str | None = msgspec.field(default=None, name="continue")
    resourceVersion: str | None = None


class _ListHead(msgspec.Struct):
    metadata: _ListMeta = msgspec.field(default_factory=_ListMeta)


def list_pages(session: Session, what: str, request: Callable[..., Any], /,
               **params: Any) -> Iterator[bytes]:
    """Yield the raw body of every page of one LIST, following `continue` tokens.

    `request` is a client list method (e.g. `session.core.list_node`); `params` its arguments.
    A 410 Gone on a continue token restarts the list from the first page: the caller must
    treat a restart as "discard what you decoded so far" (see `list_all`).
    """
    token: str | None = None
    while True:
        page_params = dict(params, limit=session.settings.page_size)
        if token:
            page_params["_continue"] = token
        body = session.call(what, request, **page_params)
        yield body
        token = msgspec.json.decode(body, type=_ListHead).metadata.continue_
        if not token:
            return


def list_all(session: Session, what: str, decode: Callable[[bytes], Sequence[T]],
             request: Callable[..., Any], /, **params: Any) -> list[T]:
    """Every item of a paged LIST, each page decoded by `decode` (bytes -> typed items).

    Raises KubeError (see Session.call); restarts on an expired continue token.
    """
    for _ in range(MAX_LIST_RESTARTS):
        items: list[T] = []
        try:
            for body in list_pages(session, what, request, **params):
                items.extend(decode(body))
        except ApiRejected as error:
            if error.code == 410:
                continue  # the snapshot expired mid-list: a consistent list needs a fresh start
            raise
        return items
    raise KubeError(f"{what}: the list kept expiring (410 Gone) after {MAX_LIST_RESTARTS} restarts")
