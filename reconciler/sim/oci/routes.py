"""The simulated registry's answers, as pure data: (method, path) -> Reply, over the catalogue.

Read-only OCI distribution API (the part a client inspecting images uses):

    GET  /v2/                                  200 {}   (the API version check)
    GET  /v2/_catalog                          the repositories
    GET  /v2/<name>/tags/list                  the tags of a repository
    HEAD|GET /v2/<name>/manifests/<tag|digest> the index or manifest, Docker-Content-Digest
    HEAD|GET /v2/<name>/blobs/<digest>         config blobs; layers: HEAD only (their size)

Unknown names, tags, digests and blobs are 404 with the distribution error body
(`{"errors": [{"code": "MANIFEST_UNKNOWN", ...}]}`); writes are 405 UNSUPPORTED. A repository
with an image that needs a pull secret at the edge answers 401 with a Basic challenge to a
request without credentials; any Basic credentials are accepted, as the simulated edge accepts
any usable secret.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from reconciler.sim.kubeedge.registry import ImageCatalogue, RegistryImage
from reconciler.sim.oci.content import ImageContent

API_VERSION_HEADER = {"Docker-Distribution-API-Version": "registry/2.0"}
_JSON = "application/json"
CHALLENGE = 'Basic realm="edgefleet-sim"'


@dataclass(frozen=True, slots=True)
class Reply:
    """An HTTP answer; `body` is what a GET sends (a HEAD sends its length only)."""

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


def _json(status: int, document: Any) -> Reply:
    return Reply(status, json.dumps(document).encode(), {"Content-Type": _JSON})


def error(status: int, code: str, message: str, detail: Any = None) -> Reply:
    """The distribution spec's error body."""
    return _json(status, {"errors": [{"code": code, "message": message, "detail": detail}]})


def answer(catalogue: ImageCatalogue, method: str, path: str, *, authorized: bool = False) -> Reply:
    """What the registry answers to `method path` (the path without its query); `authorized`:
    the request carried Basic credentials."""
    if method not in ("GET", "HEAD"):
        return error(405, "UNSUPPORTED", "the simulated registry is read-only")
    if path in ("/v2", "/v2/"):  # as Harbor: the version check names the challenge to anyone
        return _json(200, {}) if authorized else _denied("")
    if path == "/v2/_catalog":
        return _json(200, {"repositories": catalogue.repositories()})
    rest = path.removeprefix("/v2/")
    if rest == path:
        return error(404, "NAME_UNKNOWN", "not an OCI distribution path")
    for kind in ("/manifests/", "/blobs/", "/tags/"):
        name, found, target = rest.rpartition(kind)
        if found and name:
            return _repository_answer(catalogue, method, name, kind.strip("/"), target, authorized)
    return error(404, "NAME_UNKNOWN", "repository name not known to registry", {"name": rest})


def _denied(name: str) -> Reply:
    denied = error(401, "UNAUTHORIZED", "authentication required", {"name": name} if name else None)
    return Reply(401, denied.body, {**denied.headers, "WWW-Authenticate": CHALLENGE})


def _repository_answer(catalogue: ImageCatalogue, method: str, name: str, kind: str,
                       target: str, authorized: bool) -> Reply:
    tags = catalogue.repository(name)
    if not tags:
        return error(404, "NAME_UNKNOWN", "repository name not known to registry", {"name": name})
    if not authorized and any(image.needs_secret for image in tags.values()):
        return _denied(name)
    if kind == "tags":
        if target != "list":
            return error(404, "NAME_UNKNOWN", "not an OCI distribution path")
        return _json(200, {"name": name, "tags": sorted(tags)})
    if kind == "manifests":
        return _manifest(tags, target)
    return _blob(tags, method, target)


def _contents(tags: dict[str, RegistryImage]) -> list[ImageContent]:
    return [c for c in (image.content() for image in tags.values()) if c is not None]


def _manifest(tags: dict[str, RegistryImage], target: str) -> Reply:
    if ":" not in target:  # a tag
        image = tags.get(target)
        content = image.content() if image is not None else None
        if content is None:
            return error(404, "MANIFEST_UNKNOWN", "manifest unknown", {"Tag": target})
        media_type, body = content.manifests[content.digest]
        return _document(content.digest, media_type, body)
    for content in _contents(tags):
        if target in content.manifests:
            media_type, body = content.manifests[target]
            return _document(target, media_type, body)
    return error(404, "MANIFEST_UNKNOWN", "manifest unknown", {"Digest": target})


def _document(digest: str, media_type: str, body: bytes) -> Reply:
    return Reply(200, body, {"Content-Type": media_type, "Docker-Content-Digest": digest})


def _blob(tags: dict[str, RegistryImage], method: str, digest: str) -> Reply:
    for content in _contents(tags):
        blob = content.blobs.get(digest)
        if blob is None:
            continue
        headers = {"Content-Type": "application/octet-stream", "Docker-Content-Digest": digest,
                   "Content-Length": str(blob.size)}
        if blob.body is not None:
            return Reply(200, blob.body, headers)
        if method == "HEAD":
            return Reply(200, b"", headers)
        return error(501, "UNSUPPORTED", "layer contents are not simulated; HEAD gives the size",
                     {"Digest": digest})
    return error(404, "BLOB_UNKNOWN", "blob unknown to registry", {"Digest": digest})
