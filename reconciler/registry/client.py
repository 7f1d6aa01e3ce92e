"""The registry adapter: what a registry says about an image, over the OCI distribution API.

Per image: `HEAD /v2/<repo>/manifests/<tag|digest>` gives the digest the tag means now
(`Docker-Content-Digest`); `GET` of that manifest (an image index or a single manifest, OCI or
Docker media types) gives the platforms; each platform's manifest gives its layer sizes (for a
single manifest, the config blob gives its os/architecture). Bodies fetched by digest are
checked against the digest.

Caching: the tag -> digest answer is kept for `cache_ttl_seconds` (a missing tag too), so that
planning many nodes asks the registry once per distinct image and cycle; what a digest holds
never changes, so (repository, digest) -> platforms is kept for the life of the client. A
registry host that does not answer is not asked again for `down_seconds`.

Nothing raises for a registry problem: `inspect` returns facts with `exists=None` and the
reason, and logs a warning.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import ssl
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from reconciler.manifests.imageref import ImageRef, ImageRefError, parse_image
from reconciler.registry.challenge import RegistryAuth, RegistryAuthError
from reconciler.registry.credentials import Credentials, DockerConfig
from reconciler.registry.facts import ImageFacts, PlatformFacts, unknown

log = logging.getLogger("reconciler.registry")

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
INDEX_TYPES = frozenset({OCI_INDEX, DOCKER_LIST})
ACCEPT = ", ".join((OCI_INDEX, DOCKER_LIST, OCI_MANIFEST, DOCKER_MANIFEST))
_MAX_DOCUMENT_BYTES = 4 * 1024 * 1024  # the distribution spec's manifest size limit
_DOCKER_HUB_API = "registry-1.docker.io"
_MAX_CACHED_DIGESTS = 8192  # (repository, digest) entries kept; the oldest go first


@dataclass(frozen=True, slots=True)
class RegistrySettings:
    """How the adapter talks to registries."""

    insecure: frozenset[str] = frozenset()  # host[:port] spoken to over plain HTTP
    timeout_seconds: float = 10.0  # per request (connect, read)
    cache_ttl_seconds: float = 300.0  # how long a tag -> digest answer is trusted
    down_seconds: float = 30.0  # how long a host that did not answer is skipped
    max_concurrency: int = 8  # images resolved at once by inspect_images
    ca_file: str | None = None  # extra CA bundle for TLS (default: the system/certifi roots)


class _Unreadable(Exception):
    """The registry answered, but not with what we asked for; the message is the reason."""


@dataclass(frozen=True, slots=True)
class _Tag:
    digest: str | None  # None: the registry said the tag does not exist
    media_type: str | None
    until: float


class RegistryClient:
    """A registry adapter shared by every image of a plan (thread-safe; close it, or use `with`)."""

    def __init__(
        self,
        settings: RegistrySettings | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        transport: httpx.BaseTransport | None = None,
        event_hooks: Mapping[str, list[Callable[..., Any]]] | None = None,
    ) -> None:
        self.settings = settings or RegistrySettings()
        self._clock = clock
        verify: ssl.SSLContext | bool = True
        if self.settings.ca_file is not None:
            verify = ssl.create_default_context(cafile=self.settings.ca_file)
        self._http = httpx.Client(
            verify=verify,
            timeout=self.settings.timeout_seconds,
            follow_redirects=True,  # httpx drops Authorization when a redirect leaves the host
            transport=transport,
            event_hooks=event_hooks,
            headers={"User-Agent": "edgefleet"},
        )
        self._lock = threading.Lock()
        self._tags: dict[str, _Tag] = {}
        self._contents: dict[tuple[str, str], tuple[str, tuple[PlatformFacts, ...]]] = {}
        self._auths: dict[tuple[str, Credentials | None], RegistryAuth] = {}
        self._down: dict[str, float] = {}

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connections."""
        self._http.close()

    def inspect(self, reference: str, credentials: DockerConfig | None = None) -> ImageFacts:
        """What the registry says about `reference` (see the module docstring).

        Reads the registry (or the cache); never raises for a registry or reference problem:
        an invalid reference (userinfo, a URL scheme, shell characters) is refused before any
        request, with `exists=None`; a registry that fails gives `exists=None` and a warning.
        """
        if _has_userinfo(reference):
            # never echo it: the part before '@' is a password, in logs and in the facts
            log.warning("registry facts unknown for %s: refused: it holds credentials", _redacted(reference))
            return unknown(_redacted(reference), "refused: invalid image reference: it holds user:password@")
        try:
            ref = parse_image(reference)
        except ImageRefError as err:
            return self._degraded(reference, f"refused: invalid image reference: {err}")
        creds = credentials.for_registry(ref.registry) if credentials is not None else None
        host = ref.registry
        with self._lock:
            down_until = self._down.get(host, 0.0)
        if down_until > self._clock():
            return self._degraded(reference, f"registry {host} did not answer recently; not asked again yet")
        try:
            tag = self._resolve(ref, creds)
            if tag.digest is None:
                what = f"tag {ref.tag!r}" if ref.digest is None else f"digest {ref.digest}"
                return ImageFacts(reference=reference, exists=False, error=f"{what} not found in {ref.name}")
            media_type, platforms = self._platforms(ref, tag.digest, creds)
        except httpx.TransportError as err:
            with self._lock:
                self._down[host] = self._clock() + self.settings.down_seconds
            return self._degraded(reference, f"registry {host} did not answer: {type(err).__name__}: {err}")
        except (httpx.HTTPError, RegistryAuthError, _Unreadable) as err:
            return self._degraded(reference, f"registry {host}: {err}")
        return ImageFacts(
            reference=reference, exists=True, digest=tag.digest, media_type=media_type, platforms=platforms
        )

    def _degraded(self, reference: str, reason: str) -> ImageFacts:
        log.warning("registry facts unknown for %s: %s", reference, reason)
        return unknown(reference, reason)

    def _base(self, ref: ImageRef) -> str:
        scheme = "http" if ref.registry in self.settings.insecure else "https"
        host = _DOCKER_HUB_API if ref.registry == "docker.io" else ref.registry
        return f"{scheme}://{host}/v2/{ref.repository}"

    def _auth(self, registry: str, creds: Credentials | None) -> RegistryAuth:
        with self._lock:
            auth = self._auths.get((registry, creds))
            if auth is None:
                auth = self._auths[(registry, creds)] = RegistryAuth(creds, clock=self._clock)
            return auth

    def _get(self, method: str, url: str, ref: ImageRef, creds: Credentials | None) -> httpx.Response:
        request = self._http.build_request(method, url, headers={"Accept": ACCEPT})
        response = self._http.send(request, auth=self._auth(ref.registry, creds))
        if response.status_code in (401, 403):
            raise _Unreadable(f"access denied (HTTP {response.status_code}) for {ref.name}")
        return response

    def _resolve(self, ref: ImageRef, creds: Credentials | None) -> _Tag:
        """The digest `ref` means now: from the cache, else one HEAD request."""
        key = str(ref)
        now = self._clock()
        with self._lock:
            cached = self._tags.get(key)
        if cached is not None and cached.until > now:
            return cached
        response = self._get("HEAD", f"{self._base(ref)}/manifests/{ref.digest or ref.tag}", ref, creds)
        if response.status_code == 404:
            tag = _Tag(None, None, now + self.settings.cache_ttl_seconds)
        elif response.status_code == 200:
            digest = response.headers.get("Docker-Content-Digest") or ref.digest
            if digest is None:  # some registries leave it out of HEAD: read the manifest
                digest, _ = self._document(ref, ref.tag or "", creds)
            tag = _Tag(digest, _media_type(response), now + self.settings.cache_ttl_seconds)
        else:
            raise _Unreadable(f"HEAD of the manifest answered HTTP {response.status_code}")
        with self._lock:
            self._tags[key] = tag
        return tag

    def _document(
        self, ref: ImageRef, target: str, creds: Credentials | None, *, blob: bool = False
    ) -> tuple[str, Any]:
        """GET a manifest (or a blob) by tag or digest: (digest, parsed JSON), digest checked."""
        kind = "blobs" if blob else "manifests"
        response = self._get("GET", f"{self._base(ref)}/{kind}/{target}", ref, creds)
        if response.status_code != 200:
            raise _Unreadable(f"GET {kind}/{target} answered HTTP {response.status_code}")
        body = response.content
        if len(body) > _MAX_DOCUMENT_BYTES:
            raise _Unreadable(f"{kind}/{target} is larger than {_MAX_DOCUMENT_BYTES} bytes")
        algorithm = target.partition(":")[0] if ":" in target else "sha256"
        if algorithm not in ("sha256", "sha384", "sha512"):
            raise _Unreadable(f"unsupported digest algorithm in {kind}/{target}")
        digest = f"{algorithm}:{hashlib.new(algorithm, body).hexdigest()}"
        if ":" in target and digest != target:
            raise _Unreadable(f"{kind}/{target} does not match its digest")
        try:
            return digest, json.loads(body)
        except ValueError:
            raise _Unreadable(f"{kind}/{target} is not JSON") from None

    def _platforms(
        self, ref: ImageRef, digest: str, creds: Credentials | None
    ) -> tuple[str, tuple[PlatformFacts, ...]]:
        """(media type, platforms) of the manifest or index `digest`: cached for good."""
        with self._lock:
            cached = self._contents.get((ref.name, digest))
        if cached is not None:
            return cached
        _, document = self._document(ref, digest, creds)
        if not isinstance(document, dict):
            raise _Unreadable(f"manifest {digest} is not a JSON object")
        media_type = str(document.get("mediaType") or "")
        if media_type in INDEX_TYPES or "manifests" in document:
            platforms = self._index_platforms(ref, document, creds)
            media_type = media_type or OCI_INDEX
        else:
            platforms = [self._image_platform(ref, digest, document, creds)]
            media_type = media_type or OCI_MANIFEST
        result = (media_type, tuple(sorted(platforms)))
        with self._lock:
            if len(self._contents) >= _MAX_CACHED_DIGESTS:  # tags that moved leave old digests behind
                del self._contents[next(iter(self._contents))]
            self._contents[(ref.name, digest)] = result
        return result

    def _index_platforms(
        self, ref: ImageRef, index: dict[str, Any], creds: Credentials | None
    ) -> list[PlatformFacts]:
        platforms = []
        for entry in _list(index.get("manifests")):
            platform = entry.get("platform") if isinstance(entry, dict) else None
            digest = entry.get("digest") if isinstance(entry, dict) else None
            if not isinstance(platform, dict) or not isinstance(digest, str) or _is_attestation(entry):
                continue  # attestations (buildx provenance) and nested indexes are no platform
            if entry.get("mediaType") in INDEX_TYPES:
                continue
            _, manifest = self._document(ref, digest, creds)
            platforms.append(
                PlatformFacts(
                    os=str(platform.get("os", "")),
                    architecture=str(platform.get("architecture", "")),
                    variant=platform.get("variant") or None,
                    digest=digest,
                    size_bytes=_layer_bytes(manifest),
                )
            )
        return platforms

    def _image_platform(
        self, ref: ImageRef, digest: str, manifest: dict[str, Any], creds: Credentials | None
    ) -> PlatformFacts:
        config = manifest.get("config")
        config_digest = config.get("digest") if isinstance(config, dict) else None
        if not isinstance(config_digest, str):
            raise _Unreadable(f"manifest {digest} has no config")
        _, image_config = self._document(ref, config_digest, creds, blob=True)
        if not isinstance(image_config, dict):
            raise _Unreadable(f"config {config_digest} is not a JSON object")
        return PlatformFacts(
            os=str(image_config.get("os", "")),
            architecture=str(image_config.get("architecture", "")),
            variant=image_config.get("variant") or None,
            digest=digest,
            size_bytes=_layer_bytes(manifest),
        )


def _authority(reference: str) -> tuple[str, str, str]:
    """(scheme with '://', first path segment, rest) of what a user may have written as a URL."""
    scheme, sep, rest = reference.partition("://")
    prefix = scheme + sep if sep else ""
    body = rest if sep else reference
    first, slash, tail = body.partition("/")
    return prefix, first, slash + tail


_DIGEST_FORM = re.compile(r"[a-z0-9]+:[a-f0-9]+")


def _has_userinfo(reference: str) -> bool:
    """`user:pass@host/...` (with or without a scheme): credentials written into a reference.
    `nginx@sha256:...` is a digest, not userinfo."""
    prefix, first, rest = _authority(reference)
    if "@" not in first:
        return False
    return bool(prefix or rest) or _DIGEST_FORM.fullmatch(first.rpartition("@")[2]) is None


def _redacted(reference: str) -> str:
    prefix, first, rest = _authority(reference)
    return f"{prefix}<redacted>@{first.rpartition('@')[2]}{rest}"


def _media_type(response: httpx.Response) -> str | None:
    value = response.headers.get("Content-Type", "").split(";", 1)[0].strip()
    return value or None


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _is_attestation(entry: dict[str, Any]) -> bool:
    annotations = entry.get("annotations")
    platform = entry.get("platform") or {}
    if (
        isinstance(annotations, dict)
        and annotations.get("vnd.docker.reference.type") == "attestation-manifest"
    ):
        return True
    return isinstance(platform, dict) and platform.get("os") == "unknown"


def _layer_bytes(manifest: object) -> int:
    """The sum of the compressed layer sizes of an image manifest."""
    if not isinstance(manifest, dict):
        raise _Unreadable("a platform manifest is not a JSON object")
    sizes = [layer.get("size") for layer in _list(manifest.get("layers")) if isinstance(layer, dict)]
    if not all(isinstance(size, int) and size >= 0 for size in sizes):
        raise _Unreadable("a layer has no valid size")
    return sum(sizes)  # type: ignore[arg-type]
