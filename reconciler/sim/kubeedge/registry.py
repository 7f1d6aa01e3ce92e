"""The simulated container registries: which image references exist, their size, whether a
pull needs a secret.

Edge nodes ask the catalogue at pull time. Known references carry realistic sizes and
platforms; unknown ones either exist with a size derived from the reference (the default, so
any fleet repository can be demonstrated) or are missing (strict mode, for tests of failed
pulls). The simulated registry (reconciler/sim/oci) serves the catalogue under its own host
(`serve_at`): there, only what the catalogue holds exists (docs/registry.md).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from reconciler.manifests.imageref import ImageRef, normalize_image, parse_image
from reconciler.sim.oci.content import MULTI_ARCH, ImageContent, build_content

MIB = 1024 * 1024

# Realistic compressed sizes (MiB) of images an edge fleet typically holds.
_BASE_IMAGES: tuple[tuple[str, tuple[str, ...], float], ...] = (
    ("eclipse-mosquitto", ("2.0.18", "2.0.20", "1.6"), 12.5),
    ("nginx", ("1.25", "1.27", "1.27-alpine", "stable"), 67.3),
    ("redis", ("7.2", "7.4-alpine"), 44.0),
    ("busybox", ("1.36", "1.37"), 4.3),
    ("alpine", ("3.19", "3.20", "3.21"), 7.4),
    ("debian", ("bookworm-slim", "bullseye-slim"), 28.2),
    ("ubuntu", ("22.04", "24.04"), 29.7),
    ("python", ("3.11-slim", "3.12-slim", "3.12"), 131.0),
    ("node", ("20-alpine", "22-alpine"), 58.0),
    ("postgres", ("16", "16-alpine"), 151.0),
    ("influxdb", ("2.7",), 118.0),
    ("grafana/grafana", ("10.4.2", "11.1.0"), 128.0),
    ("prom/node-exporter", ("v1.7.0", "v1.8.2"), 11.5),
    ("prom/prometheus", ("v2.53.0",), 97.0),
    ("fluent/fluent-bit", ("3.0", "3.1"), 33.0),
    ("telegraf", ("1.30", "1.31"), 141.0),
    ("nodered/node-red", ("3.1", "4.0"), 189.0),
    ("emqx/emqx", ("5.7.1",), 112.0),
    ("kubeedge/eventbus", ("v1.21.0",), 17.0),
    ("kubeedge/installation-package", ("v1.21.0",), 98.0),
    ("eclipse-mosquitto", ("1.6.15",), 9.8),
    ("fluent/fluent-bit", ("3.0.7",), 33.5),
    ("redis", ("7.2-alpine",), 15.3),
    ("registry.example.com/edge/telemetry-agent", ("1.4.2", "1.5.0"), 38.0),
    ("registry.example.com/factory/plc-gateway", ("3.8.0",), 52.0),
    ("registry.example.com/retail/pos-gateway", ("5.2.0",), 81.0),
    ("registry.example.com/retail/price-display", ("1.9.3",), 27.0),
    ("registry.example.com/edge/log-shipper", ("0.9.1", "1.0.0"), 24.0),
    ("registry.example.com/vision/inspector", ("2.4.1", "2.5.0"), 612.0),
    ("registry.example.com/vision/model", ("resnet50-v3", "yolo-v8"), 890.0),
    ("registry.example.com/plc/opcua-bridge", ("3.2.0",), 46.0),
    ("registry.example.com/ml/onnxruntime", ("1.18-arm64", "1.18"), 402.0),
    ("registry.example.com/retail/pos-sync", ("5.1.3",), 75.0),
    ("registry.example.com/energy/meter-reader", ("0.7.4",), 21.0),
    ("nvcr.io/nvidia/l4t-base", ("r36.2.0",), 745.0),
    ("quay.io/prometheus/blackbox-exporter", ("v0.25.0",), 22.0),
)

# Images behind a registry secret: the seed guide's private nginx and the example fleet's
# restricted vision and toll repositories.
_PRIVATE_IMAGES: tuple[tuple[str, float], ...] = (
    ("registry.cn-hangzhou.aliyuncs.com/jilimoxing/test:nginx", 67.3),
    ("registry.example.com/vision/defect-model@sha256:"
     "8c3ced39718d00c110686e28aebe22bb93b7b6e55cd18fa4792ca519738a80af", 1210.0),
    ("registry.example.com/toll/anpr-camera:3.1.0", 344.0),
    ("registry.example.com/toll/lane-controller:2.0.4", 61.0),
)
# Most images are built for amd64 and arm64; these are not (repository -> platforms).
_PLATFORMS: dict[str, tuple[str, ...]] = {
    "registry.example.com/vision/inspector": ("amd64",),  # built against x86 GPU drivers
    "registry.example.com/vision/model": ("amd64",),
    "nvcr.io/nvidia/l4t-base": ("arm64",),  # Jetson boards only
    "registry.example.com/plc/opcua-bridge": ("amd64",),
}
PRIVATE_PREFIXES = ("registry.cn-hangzhou.aliyuncs.com/", "registry.example.com/vision/defect-model",
                    "registry.example.com/toll/")


@dataclass(frozen=True, slots=True)
class RegistryImage:
    """One pullable image: normalized reference, compressed size (of each platform), digest,
    secret need, platforms (architectures, e.g. "amd64", "arm/v7"; the OS is linux)."""

    ref: str
    size: int  # bytes
    digest: str  # "sha256:<64 hex>"
    needs_secret: bool = False
    platforms: tuple[str, ...] = MULTI_ARCH

    def content(self) -> ImageContent | None:
        """What the simulated registry serves for this image, or None when its digest is not
        one the simulation built (a reference pinned to an outside digest)."""
        built = build_content(content_seed(self.ref), self.size, self.platforms)
        return built if built.digest == self.digest else None

    @property
    def repo_digest(self) -> str:
        """The `repository@sha256:...` name, as CRI lists it."""
        return f"{parse_image(self.ref).name}@{self.digest}"


def digest_of(ref: str) -> str:
    """A stable fake content digest for a reference (digest references keep their own)."""
    if "@sha256:" in ref:
        return "sha256:" + ref.rsplit("@sha256:", 1)[1]
    return "sha256:" + hashlib.sha256(ref.encode()).hexdigest()


def content_seed(ref: str) -> str:
    """What an image's content is derived from: the reference without its registry host."""
    parsed = parse_image(ref)
    if parsed.digest is not None:
        return f"{parsed.repository}@{parsed.digest}"
    return f"{parsed.repository}:{parsed.tag}"


def published(ref: str, size: int, *, platforms: tuple[str, ...] = MULTI_ARCH,
              needs_secret: bool = False) -> RegistryImage:
    """An image as the simulated registry serves it: its digest is that of its content (a
    digest reference keeps its own digest, which the simulated registry cannot serve)."""
    norm = normalize_image(ref)
    digest = (digest_of(norm) if "@" in norm
              else build_content(content_seed(norm), size, platforms).digest)
    return RegistryImage(norm, size, digest, needs_secret=needs_secret, platforms=platforms)


def _derived_size(ref: str) -> int:
    # 5 MiB .. ~600 MiB, skewed to small, stable per reference.
    h = int.from_bytes(hashlib.sha256(b"size:" + ref.encode()).digest()[:8], "big")
    frac = (h % 10_000) / 10_000
    return int((5 + 595 * frac * frac) * MIB)


class ImageCatalogue:
    """Decides which references exist (normalized form), their size, and secret needs.

    - `images`: explicit entries (take precedence);
    - `unknown_exist`: whether a reference not listed exists (with a derived size);
    - `private_prefixes`: normalized-reference prefixes whose images need a pull secret;
    - `missing`: references that never exist, whatever `unknown_exist` says.

    After `serve_at(host)`, references at `host` (the simulated registry) name the explicit
    entries by repository path and tag, whatever their registry: `host/vision/inspector:2.5.0`
    is `registry.example.com/vision/inspector:2.5.0` (same size, platforms and digest, as from
    a mirror), `host/library/nginx:1.27` is Docker Hub's. At `host`, nothing else exists.
    """

    def __init__(self, images: Iterable[RegistryImage], *, unknown_exist: bool = True,
                 private_prefixes: Iterable[str] = (), missing: Iterable[str] = ()) -> None:
        self._images: dict[str, RegistryImage] = {i.ref: i for i in images}
        self.unknown_exist = unknown_exist
        self.private_prefixes = tuple(private_prefixes)
        self._missing = frozenset(normalize_image(m) for m in missing)
        self.served_host: str | None = None
        self._paths: dict[str, dict[str, RegistryImage]] | None = None  # built on demand

    def serve_at(self, host: str) -> None:
        """Serve the catalogue at registry `host` (host:port), see the class docstring."""
        self.served_host = host.lower()
        self._paths = None

    def lookup(self, ref: str) -> RegistryImage | None:
        """The image a pull of `ref` gets, or None when the registry answers "not found".
        `ref` may be in any valid form; an invalid reference is not found."""
        try:
            norm = normalize_image(ref)
        except ValueError:
            return None
        if norm in self._missing:
            return None
        found = self._images.get(norm)
        if found is not None:
            return found
        parsed = parse_image(norm)
        if parsed.registry == self.served_host:
            return self._served(parsed)
        if not self.unknown_exist:
            return None
        return published(norm, _derived_size(norm), needs_secret=norm.startswith(self.private_prefixes))

    def _served(self, ref: ImageRef) -> RegistryImage | None:
        tags = self.repository(ref.repository)
        if ref.tag is not None:
            image = tags.get(ref.tag)
            return image if image is not None and ref.digest in (None, image.digest) else None
        return next((i for i in tags.values() if i.digest == ref.digest), None)

    def repository(self, path: str) -> dict[str, RegistryImage]:
        """tag -> image of repository `path` at the served host (empty: no such repository)."""
        if self.served_host is None:
            return {}
        if self._paths is None:
            paths: dict[str, dict[str, RegistryImage]] = {}
            for norm in sorted(self._images, key=lambda r: parse_image(r).registry != self.served_host):
                parsed = parse_image(norm)
                if parsed.tag is not None:
                    paths.setdefault(parsed.repository, {}).setdefault(parsed.tag, self._images[norm])
            self._paths = paths
        served = {}
        for tag, image in self._paths.get(path, {}).items():
            ref = f"{self.served_host}/{path}:{tag}"
            if ref not in self._missing:
                served[tag] = replace(image, ref=ref)
        return served

    def repositories(self) -> list[str]:
        """The repository paths the served host holds, sorted."""
        self.repository("")  # builds the index
        return sorted(p for p in self._paths or {} if self.repository(p))

    def known(self) -> list[RegistryImage]:
        """The explicit entries, sorted by reference."""
        return [self._images[k] for k in sorted(self._images)]

    def add(self, image: RegistryImage) -> None:
        """Publish (or replace) an image."""
        self._images[image.ref] = image
        self._missing = self._missing - {image.ref}
        self._paths = None

    def withdraw(self, ref: str) -> None:
        """Make `ref` not found from now on (a tag deleted, or one that was never pushed)."""
        norm = normalize_image(ref)
        self._images.pop(norm, None)
        self._missing = self._missing | {norm}
        self._paths = None


def default_catalogue(*, unknown_exist: bool = True,
                      extra: Mapping[str, int] | None = None) -> ImageCatalogue:
    """The realistic catalogue fleets are drawn from, plus `extra` {reference: size bytes}."""
    images: list[RegistryImage] = []
    for name, tags, mib in _BASE_IMAGES:
        for i, tag in enumerate(tags):
            ref = normalize_image(f"{name}:{tag}")
            # Versions of one image differ a little in size; stable per reference.
            size = int(mib * MIB * (1 + 0.04 * i))
            images.append(published(ref, size, platforms=_PLATFORMS.get(parse_image(ref).name, MULTI_ARCH)))
    for raw, mib in _PRIVATE_IMAGES:
        images.append(published(raw, int(mib * MIB), needs_secret=True))
    for raw, size in (extra or {}).items():
        images.append(published(raw, size))
    return ImageCatalogue(images, unknown_exist=unknown_exist,
                          private_prefixes=PRIVATE_PREFIXES)
