"""What the simulated registry serves for one image: an OCI image index (or, for a
single-platform image, one image manifest), a manifest and a config blob per platform, and
layer descriptors whose sizes add up to the catalogue's size. Pure and deterministic: the
same (seed, size, platforms) always gives the same bytes, so the same digests.

The seed is the reference without its registry host (`vision/inspector:2.5.0`), so the same
image under two registry names (a mirror) has the same digest, as a real mirror has.
"""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass
from typing import Any

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
MULTI_ARCH = ("amd64", "arm64")


@dataclass(frozen=True, slots=True)
class Blob:
    """A blob the registry knows: config blobs have a body; layers only a size (their bytes
    are not simulated: no edge node downloads anything)."""

    media_type: str
    digest: str
    size: int
    body: bytes | None = None


@dataclass(frozen=True, slots=True)
class ImageContent:
    """One image's documents: `digest`/`media_type` of the top document (what a tag means),
    `manifests` every manifest by digest (the top one included), `blobs` by digest."""

    digest: str
    media_type: str
    manifests: dict[str, tuple[str, bytes]]
    blobs: dict[str, Blob]

    @property
    def body(self) -> bytes:
        """The top document's bytes."""
        return self.manifests[self.digest][1]


def canonical(document: dict[str, Any]) -> bytes:
    """Compact JSON with sorted keys: one byte string per document."""
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()


def sha256(data: bytes) -> str:
    """The `sha256:<hex>` digest of `data`."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def platform_of(spec: str) -> dict[str, str]:
    """`amd64` -> linux/amd64; `arm64` -> linux/arm64 variant v8; `arm/v7` -> arm variant v7."""
    architecture, _, variant = spec.partition("/")
    if architecture == "arm64" and not variant:
        variant = "v8"
    platform = {"os": "linux", "architecture": architecture}
    return platform | {"variant": variant} if variant else platform


def layer_sizes(seed: str, size: int) -> list[int]:
    """One to three layers, stable per seed, that add up to `size` bytes."""
    h = int.from_bytes(hashlib.sha256(b"layers:" + seed.encode()).digest()[:4], "big")
    count = 1 + h % 3 if size >= 3 else 1
    shares = [60, 30, 10][:count]
    sizes = [size * s // sum(shares) for s in shares]
    sizes[0] += size - sum(sizes)
    return sizes


def _image_manifest(seed: str, size: int, spec: str) -> tuple[bytes, dict[str, Blob]]:
    platform = platform_of(spec)
    layers = [Blob(OCI_LAYER, sha256(f"layer:{seed}:{spec}:{i}".encode()), n)
              for i, n in enumerate(layer_sizes(f"{seed}:{spec}", size))]
    config_body = canonical({
        **platform, "config": {"Labels": {"io.edgefleet.sim": seed}},
        "rootfs": {"type": "layers",
                   "diff_ids": [sha256(f"diff:{layer.digest}".encode()) for layer in layers]}})
    config = Blob(OCI_CONFIG, sha256(config_body), len(config_body), config_body)
    manifest = canonical({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": config.media_type, "digest": config.digest, "size": config.size},
        "layers": [{"mediaType": b.media_type, "digest": b.digest, "size": b.size} for b in layers]})
    return manifest, {b.digest: b for b in (config, *layers)}


@functools.lru_cache(maxsize=4096)
def build_content(seed: str, size: int, platforms: tuple[str, ...] = MULTI_ARCH) -> ImageContent:
    """The documents of an image of `size` compressed bytes per platform. One platform gives a
    plain image manifest (as most single-arch images are pushed); more give an index."""
    if not platforms:
        raise ValueError("an image has at least one platform")
    manifests: dict[str, tuple[str, bytes]] = {}
    blobs: dict[str, Blob] = {}
    entries: list[dict[str, Any]] = []
    for spec in platforms:
        body, its_blobs = _image_manifest(seed, size, spec)
        digest = sha256(body)
        manifests[digest] = (OCI_MANIFEST, body)
        blobs.update(its_blobs)
        entries.append({"mediaType": OCI_MANIFEST, "digest": digest, "size": len(body),
                        "platform": platform_of(spec)})
    if len(platforms) == 1:
        return ImageContent(entries[0]["digest"], OCI_MANIFEST, manifests, blobs)
    index = canonical({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries})
    manifests[sha256(index)] = (OCI_INDEX, index)
    return ImageContent(sha256(index), OCI_INDEX, manifests, blobs)
