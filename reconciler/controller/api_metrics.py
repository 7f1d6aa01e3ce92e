"""Count every request the Kubernetes client sends, by verb and HTTP code.

The official client sends everything through `ApiClient.rest_client.request(method, url, ...)`;
wrapping that one method counts lists, watches, creates and Lease renewals alike, without
touching the adapter that builds them.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

from prometheus_client import Counter

_VERBS = {"POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}


def verb_of(method: str, url: str) -> str:
    """The Kubernetes verb of a request: get (and list), watch, create, update, patch, delete."""
    method = method.upper()
    if method == "GET":
        query = parse_qs(urlsplit(url).query)
        return "watch" if query.get("watch", [""])[0] in ("true", "1", "True") else "get"
    return _VERBS.get(method, method.lower())


def instrument(api_client: Any, requests: Counter) -> None:
    """Make `api_client` count each request in `requests` (labels verb, code; code 0: no answer)."""
    rest = api_client.rest_client
    if getattr(rest, "_edgefleet_counted", False):
        return  # already counted (one session shared by two controllers in a test)
    original = rest.request

    def request(method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        verb = verb_of(method, url)
        try:
            response = original(method, url, *args, **kwargs)
        except Exception:
            requests.labels(verb, "0").inc()
            raise
        requests.labels(verb, str(response.status)).inc()
        return response

    rest.request = request
    rest._edgefleet_counted = True
