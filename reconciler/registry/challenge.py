"""Registry authentication as an `httpx.Auth` flow: anonymous, Basic, and the Bearer token dance.

httpx does Basic itself; the distribution token protocol it does not, so the one piece of
protocol code edgefleet owns is here, without I/O of its own (httpx sends what the flow yields):

1. send the request as is (or with a token cached for this repository);
2. on `401` with `WWW-Authenticate: Basic ...`, send it again with the credentials;
3. on `401` with `WWW-Authenticate: Bearer realm=...,service=...,scope=...`, GET the realm with
   `service` and `scope` (with Basic credentials when there are any, anonymous otherwise), and
   send the request again with `Authorization: Bearer <token>`.

Credentials go only to the registry itself and to the realm it names; a realm over plain
HTTP is refused unless the registry itself is plain HTTP (listed insecure).
"""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Callable, Generator
from urllib.parse import urlsplit
from urllib.request import parse_http_list, parse_keqv_list

import httpx
import msgspec

from reconciler.registry.credentials import Credentials

_DEFAULT_TOKEN_SECONDS = 60  # the distribution spec's default when expires_in is absent
_TOKEN_MARGIN_SECONDS = 5


class RegistryAuthError(Exception):
    """Authentication could not be completed; the message names no secret."""


class _TokenAnswer(msgspec.Struct):
    token: str | None = None
    access_token: str | None = None
    expires_in: int | None = None


def parse_challenge(header: str) -> tuple[str, dict[str, str]]:
    """`Bearer realm="r",service="s"` -> ("bearer", {"realm": "r", "service": "s"})."""
    scheme, _, rest = header.strip().partition(" ")
    return scheme.lower(), parse_keqv_list(parse_http_list(rest)) if rest.strip() else {}


def _repository_of(url: httpx.URL) -> str:
    """The repository of a `/v2/<name>/manifests|blobs/...` URL (the token cache key)."""
    path = url.path.removeprefix("/v2/")
    for marker in ("/manifests/", "/blobs/", "/tags/"):
        if marker in path:
            return path.split(marker, 1)[0]
    return ""


class RegistryAuth(httpx.Auth):
    """The auth flow for one registry host and one set of credentials (or none).

    Tokens are cached per repository until shortly before they expire, so a resolve of many
    tags of one repository asks the token endpoint once. Thread-safe: one instance serves the
    worker threads of a batch.
    """

    requires_response_body = True

    def __init__(
        self, credentials: Credentials | None, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._credentials = credentials
        self._clock = clock
        self._lock = threading.Lock()
        self._tokens: dict[str, tuple[str, float]] = {}  # repository -> (token, valid until)
        self._basic = False  # the registry asked for Basic once: send it up front from now on

    def __repr__(self) -> str:
        return f"RegistryAuth(credentials={self._credentials!r})"

    def _cached_token(self, repository: str) -> str | None:
        with self._lock:
            entry = self._tokens.get(repository)
        if entry is None or entry[1] <= self._clock():
            return None
        return entry[0]

    def _authorize(self, request: httpx.Request) -> None:
        token = self._cached_token(_repository_of(request.url))
        if token is not None:
            request.headers["Authorization"] = f"Bearer {token}"
        elif self._basic and self._credentials is not None:
            request.headers["Authorization"] = self._basic_header()

    def _basic_header(self) -> str:
        assert self._credentials is not None
        pair = f"{self._credentials.username}:{self._credentials.password}".encode()
        return "Basic " + base64.b64encode(pair).decode("ascii")

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """The flow httpx drives: see the module docstring."""
        self._authorize(request)
        response = yield request
        if response.status_code != 401:
            return
        scheme, params = parse_challenge(response.headers.get("WWW-Authenticate", ""))
        if scheme == "basic":
            if self._credentials is None:
                return
            self._basic = True
            request.headers["Authorization"] = self._basic_header()
            yield request
        elif scheme == "bearer":
            token_response = yield self._token_request(request, params)
            token = self._read_token(token_response, _repository_of(request.url))
            request.headers["Authorization"] = f"Bearer {token}"
            yield request

    def _token_request(self, request: httpx.Request, params: dict[str, str]) -> httpx.Request:
        realm = params.get("realm", "")
        parts = urlsplit(realm)
        if parts.scheme not in ("https", "http") or not parts.netloc or parts.username is not None:
            raise RegistryAuthError("the registry named an unusable token realm")
        if parts.scheme == "http" and request.url.scheme != "http":
            raise RegistryAuthError("the registry named a token realm over plain HTTP; refused")
        query = {key: params[key] for key in ("service", "scope") if params.get(key)}
        headers = {}
        if self._credentials is not None:
            headers["Authorization"] = self._basic_header()
        return httpx.Request("GET", realm, params=query, headers=headers)

    def _read_token(self, response: httpx.Response, repository: str) -> str:
        if response.status_code != 200:
            raise RegistryAuthError(f"the token endpoint answered HTTP {response.status_code}")
        try:
            answer = msgspec.json.decode(response.content, type=_TokenAnswer)
        except msgspec.DecodeError:
            raise RegistryAuthError("the token endpoint answered something that is not a token") from None
        token = answer.token or answer.access_token
        if not token:
            raise RegistryAuthError("the token endpoint answered without a token")
        lifetime = answer.expires_in or _DEFAULT_TOKEN_SECONDS
        with self._lock:
            self._tokens[repository] = (token, self._clock() + max(lifetime - _TOKEN_MARGIN_SECONDS, 1))
        return token
