"""From what the container runtime lists to the node's inventory report (PURE: no I/O, no clock).

The CRI adapter (runtime.py) turns the runtime's answers into the plain records below; this module
turns them into the `status.agent` subtree of the node's EdgeNodeInventory:

- every repo tag (`reg/repo:tag`) and every repo digest (`reg/repo@sha256:...`) of every runtime
  image becomes one entry, normalized with the manifests' `imageref` rules, so the planner compares
  like with like; the entry carries the manifest digest (when the runtime recorded one for that
  name) and the image's size;
- a reference that does not parse is skipped and counted (`skippedRefs`): a runtime may hold
  names the manifests would refuse, and one odd name must not hide the rest of the inventory;
- two runtime names that normalize to the same reference (`nginx:1` and `docker.io/library/nginx:1`)
  give one entry, the same whatever order the runtime listed them in;
- `contentHash` covers everything but `observedAt`, so an unchanged node hashes the same on every
  run and the writer can skip the write. The image-fs figures enter the hash rounded to a coarse
  step (FS_HASH_STEP_*), because container logs and writable layers move `used` a little all the
  time; the exact figures are written whenever a write happens for another reason or at resync.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

from reconciler.manifests.imageref import ImageRefError, parse_image

#: imageFs bytes enter the content hash in steps of 1 % of capacity, at least this many bytes.
FS_HASH_STEP_MIN_BYTES = 256 * 1024 * 1024
FS_HASH_STEP_FRACTION = 0.01


@dataclass(frozen=True, slots=True)
class RuntimeImage:
    """One image as the runtime lists it (CRI `Image`): its id, names and size in bytes."""

    id: str
    repo_tags: tuple[str, ...] = ()
    repo_digests: tuple[str, ...] = ()
    size: int = 0


@dataclass(frozen=True, slots=True)
class ImageFs:
    """The image filesystem: bytes the runtime's images use; capacity when it could be read."""

    used_bytes: int | None = None
    capacity_bytes: int | None = None


@dataclass(frozen=True, slots=True)
class RuntimeInfo:
    """The runtime's name and version (CRI `Version`), e.g. containerd v1.6.20."""

    name: str
    version: str


@dataclass(frozen=True, slots=True)
class InventoryImage:
    """One normalized reference the node holds."""

    image: str
    digest: str | None
    size_bytes: int


@dataclass(frozen=True, slots=True)
class AgentReport:
    """What the agent writes as `status.agent` (see `as_status`)."""

    images: tuple[InventoryImage, ...]
    image_fs: ImageFs
    runtime: RuntimeInfo
    observed_at: datetime
    content_hash: str
    skipped_refs: int = 0
    skipped: tuple[str, ...] = field(default=(), compare=False)  # "ref: reason", for the log

    def as_status(self) -> dict[str, Any]:
        """The `status.agent` object (camelCase, RFC 3339 UTC time). Keys the report lacks are
        None so that a JSON merge patch removes what an older report had written."""
        return {
            "images": [_entry(i) for i in self.images],
            "imageFsUsedBytes": self.image_fs.used_bytes,
            "imageFsCapacityBytes": self.image_fs.capacity_bytes,
            "runtime": {"name": self.runtime.name, "version": self.runtime.version},
            "skippedRefs": self.skipped_refs,
            "complete": True,
            "observedAt": self.observed_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "contentHash": self.content_hash,
        }


def _entry(image: InventoryImage) -> dict[str, Any]:
    entry: dict[str, Any] = {"image": image.image, "sizeBytes": image.size_bytes}
    if image.digest is not None:
        entry["digest"] = image.digest
    return entry


def build_report(images: list[RuntimeImage], image_fs: ImageFs, runtime: RuntimeInfo,
                 observed_at: datetime) -> AgentReport:
    """The inventory report of one node from its runtime's images, image fs and version.

    Reads only its arguments (`observed_at` is the caller's clock reading); never raises on a
    reference that does not parse (it is skipped and counted).
    """
    entries: dict[str, InventoryImage] = {}
    skipped: list[str] = []
    for runtime_image in sorted(images, key=lambda i: i.id):
        for candidate in _references(runtime_image, skipped):
            kept = entries.get(candidate.image)
            if kept is None or _preferred(candidate, kept):
                entries[candidate.image] = candidate
    listed = tuple(entries[name] for name in sorted(entries))
    return AgentReport(images=listed, image_fs=image_fs, runtime=runtime, observed_at=observed_at,
                       content_hash=content_hash(listed, image_fs, runtime, len(skipped)),
                       skipped_refs=len(skipped), skipped=tuple(sorted(skipped)))


def _preferred(candidate: InventoryImage, kept: InventoryImage) -> bool:
    """Of two runtime images claiming one reference, keep the one with a digest, then the
    larger size, then the larger digest: a choice that does not depend on listing order."""
    def rank(i: InventoryImage) -> tuple[bool, int, str]:
        return (i.digest is not None, i.size_bytes, i.digest or "")
    return rank(candidate) > rank(kept)


def _references(image: RuntimeImage, skipped: list[str]) -> list[InventoryImage]:
    """Every tag and digest of one runtime image as normalized entries."""
    digests: dict[str, str] = {}  # registry/repository -> manifest digest
    digest_refs: list[str] = []
    for ref in image.repo_digests:
        try:
            parsed = parse_image(ref)
        except ImageRefError as error:
            skipped.append(f"{ref}: {error}")
            continue
        if parsed.digest is None:
            skipped.append(f"{ref}: a repo digest without a digest")
            continue
        digests.setdefault(parsed.name, parsed.digest)
        digest_refs.append(f"{parsed.name}@{parsed.digest}")
    size = max(image.size, 0)
    out = [InventoryImage(ref, ref.rpartition("@")[2], size) for ref in digest_refs]
    for ref in image.repo_tags:
        try:
            parsed = parse_image(ref)
        except ImageRefError as error:
            skipped.append(f"{ref}: {error}")
            continue
        if parsed.digest is not None:
            out.append(InventoryImage(str(parsed), parsed.digest, size))
            continue
        digest = digests.get(parsed.name)
        if digest is None and len(set(digests.values())) == 1:
            digest = next(iter(digests.values()))  # retagged into another repository: same manifest
        out.append(InventoryImage(str(parsed), digest, size))
    return out


def content_hash(images: tuple[InventoryImage, ...], image_fs: ImageFs, runtime: RuntimeInfo,
                 skipped_refs: int) -> str:
    """`sha256:<hex>` over the report's content without `observedAt` (see the module docstring)."""
    content = {
        "images": [[i.image, i.digest, i.size_bytes] for i in images],
        "imageFs": [_coarse(image_fs.used_bytes, image_fs.capacity_bytes), image_fs.capacity_bytes],
        "runtime": [runtime.name, runtime.version],
        "skippedRefs": skipped_refs,
    }
    digest = hashlib.sha256(orjson.dumps(content, option=orjson.OPT_SORT_KEYS)).hexdigest()
    return f"sha256:{digest}"


def _coarse(used: int | None, capacity: int | None) -> int | None:
    if used is None:
        return None
    step = max(FS_HASH_STEP_MIN_BYTES, int((capacity or 0) * FS_HASH_STEP_FRACTION))
    return used // step
