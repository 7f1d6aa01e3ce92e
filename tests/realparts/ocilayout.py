"""OCI image layouts written with the standard library, for pushing to a real registry.

No image is fetched from the internet: each image is one gzip tar layer holding one file, a
config with its `diff_ids` and platform, and a manifest; several images can be wrapped in an
image index (multi-arch). The test knows every digest and size it wrote, so it can compare
them with what the registry adapter reports.

    built = write_layout(tmp / "oci", "1", [ImageSpec("amd64"), ImageSpec("arm64", "v8")])
    push_layout(tmp / "oci", "1", "127.0.0.1:5000/test/img:1")   # skopeo copy --all
    registry.push(built, "test/img:1")   # the same, through a running registry (registry.py)

An image a local containerd can pull is one for this machine: `ImageSpec(host_architecture())`.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import platform as host_platform
import subprocess
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
_MACHINE_ARCH = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm"}


def host_architecture() -> str:
    """This machine's architecture as OCI names it (amd64, arm64, ...)."""
    machine = host_platform.machine()
    return _MACHINE_ARCH.get(machine, machine)


@dataclass(frozen=True)
class ImageSpec:
    """One single-platform image: its platform and the content of its one file."""

    architecture: str
    variant: str | None = None
    os: str = "linux"
    payload: bytes = b""  # the file content; makes layers of different images differ


@dataclass(frozen=True)
class BuiltManifest:
    """What was written for one platform: the manifest digest and the layer sizes, and the
    bytes a registry stores for it (manifest + config + layers)."""

    spec: ImageSpec
    digest: str
    layer_sizes: tuple[int, ...]
    content_bytes: int


@dataclass(frozen=True)
class BuiltImage:
    """Where it was written (`layout`, `tag`), the top-level digest (index or manifest) and
    each platform's manifest."""

    layout: Path
    tag: str
    digest: str
    media_type: str
    manifests: tuple[BuiltManifest, ...] = field(default_factory=tuple)

    @property
    def content_bytes(self) -> int:
        """The bytes of every platform's manifest, config and layers."""
        return sum(m.content_bytes for m in self.manifests)


def _blob(layout: Path, data: bytes) -> tuple[str, int]:
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    target = layout / "blobs" / "sha256" / digest.removeprefix("sha256:")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    return digest, len(data)


def _json(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":"), sort_keys=True).encode()


def _layer(spec: ImageSpec) -> tuple[bytes, bytes]:
    """(gzip tar, uncompressed tar) of one file `/hello` whose content names the platform."""
    content = spec.payload or f"hello from {spec.os}/{spec.architecture}{spec.variant or ''}\n".encode()
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo("hello")
        info.size, info.mtime, info.mode = len(content), 0, 0o644
        tar.addfile(info, io.BytesIO(content))
    tar_bytes = raw.getvalue()
    return gzip.compress(tar_bytes, mtime=0), tar_bytes


def _manifest(layout: Path, spec: ImageSpec) -> tuple[dict[str, object], BuiltManifest]:
    compressed, uncompressed = _layer(spec)
    layer_digest, layer_size = _blob(layout, compressed)
    platform = {"os": spec.os, "architecture": spec.architecture}
    if spec.variant:
        platform["variant"] = spec.variant
    config = {
        **platform,
        "config": {"Cmd": ["/hello"]},
        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(uncompressed).hexdigest()]},
    }
    config_digest, config_size = _blob(layout, _json(config))
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": config_digest, "size": config_size},
        "layers": [{"mediaType": OCI_LAYER, "digest": layer_digest, "size": layer_size}],
    }
    digest, size = _blob(layout, _json(manifest))
    descriptor = {"mediaType": OCI_MANIFEST, "digest": digest, "size": size, "platform": platform}
    return descriptor, BuiltManifest(spec, digest, (layer_size,), size + config_size + layer_size)


def write_layout(layout: Path, tag: str, images: list[ImageSpec]) -> BuiltImage:
    """Write (or add to) the OCI layout at `layout`: one image, or an index of several, as `tag`."""
    layout.mkdir(parents=True, exist_ok=True)
    (layout / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')
    built = [_manifest(layout, spec) for spec in images]
    if len(images) == 1:
        top = dict(built[0][0])
        top.pop("platform")
        media_type = OCI_MANIFEST
    else:
        index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [d for d, _ in built]}
        digest, size = _blob(layout, _json(index))
        top = {"mediaType": OCI_INDEX, "digest": digest, "size": size}
        media_type = OCI_INDEX
    index_path = layout / "index.json"
    existing = json.loads(index_path.read_text())["manifests"] if index_path.exists() else []
    kept = [m for m in existing if m.get("annotations", {}).get("org.opencontainers.image.ref.name") != tag]
    top["annotations"] = {"org.opencontainers.image.ref.name": tag}
    index_path.write_text(json.dumps({"schemaVersion": 2, "manifests": [*kept, top]}))
    return BuiltImage(layout, tag, str(top["digest"]), media_type, tuple(b for _, b in built))


def push_layout(
    layout: Path,
    tag: str,
    destination: str,
    *,
    tls_verify: bool = False,
    creds: str = "",
    docker_format: bool = False,
) -> None:
    """`skopeo copy --all` the image `tag` of `layout` to `docker://destination` (all platforms,
    digests preserved); with `docker_format`, one image converted to Docker schema 2 types."""
    command = ["skopeo", "copy", "--quiet"]
    command += ["--format", "v2s2"] if docker_format else ["--all", "--preserve-digests"]
    command += [f"--dest-tls-verify={'true' if tls_verify else 'false'}"]
    if creds:
        command += ["--dest-creds", creds]
    command += [f"oci:{layout}:{tag}", f"docker://{destination}"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"skopeo copy failed: {result.stderr.strip()}")
