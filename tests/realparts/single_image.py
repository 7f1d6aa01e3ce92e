"""Write a small OCI image layout with the standard library: one gzip tar layer holding the
given files, a config with its diff_id, a manifest, index.json and oci-layout."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import platform
import tarfile
from dataclasses import dataclass
from pathlib import Path

MANIFEST_TYPE = "application/vnd.oci.image.manifest.v1+json"
_ARCH = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm"}


@dataclass(frozen=True)
class OciImage:
    """The layout written: where, its tag, and the digests and sizes of its parts."""

    path: Path
    tag: str
    manifest_digest: str
    content_bytes: int  # manifest + config + layer, as stored in a registry


def _blob(layout: Path, data: bytes) -> tuple[str, int]:
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    target = layout / "blobs" / "sha256" / digest.removeprefix("sha256:")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    return digest, len(data)


def write_oci_layout(layout: Path, tag: str, files: dict[str, bytes]) -> OciImage:
    """Write an image of `files` (path -> content) to the OCI layout directory `layout`."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        for name, content in sorted(files.items()):
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(content), 0o644, 0
            tar.addfile(info, io.BytesIO(content))
    layer = gzip.compress(raw.getvalue(), mtime=0)
    layer_digest, layer_size = _blob(layout, layer)
    config = json.dumps({
        "architecture": _ARCH.get(platform.machine(), platform.machine()), "os": "linux",
        "config": {}, "rootfs": {"type": "layers",
                                 "diff_ids": ["sha256:" + hashlib.sha256(raw.getvalue()).hexdigest()]},
    }).encode()
    config_digest, config_size = _blob(layout, config)
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": MANIFEST_TYPE,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": config_digest, "size": config_size},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                    "digest": layer_digest, "size": layer_size}],
    }).encode()
    manifest_digest, manifest_size = _blob(layout, manifest)
    (layout / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [{
        "mediaType": MANIFEST_TYPE, "digest": manifest_digest, "size": manifest_size,
        "annotations": {"org.opencontainers.image.ref.name": tag}}]}))
    (layout / "oci-layout").write_text(json.dumps({"imageLayoutVersion": "1.0.0"}))
    return OciImage(layout, tag, manifest_digest, manifest_size + config_size + layer_size)
