"""Debian's `docker-registry` (distribution 2.x) served on 127.0.0.1 over plain HTTP.

    with serve_registry(tmp) as registry:      # registry.host == "127.0.0.1:<port>"
        registry.push(oci_image, "test/img:1")  # skopeo copy oci:... docker://...
"""

from __future__ import annotations

import shutil
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.gitserve import free_port
from tests.realparts import Unavailable
from tests.realparts.single_image import MANIFEST_TYPE, OciImage

REGISTRY_BINARY = "docker-registry"
START_SECONDS = 10.0


@dataclass(frozen=True)
class Registry:
    """A running registry: `host` is 127.0.0.1:<port>, `url` its http:// base."""

    host: str
    root: Path

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    def push(self, image: OciImage, repository_tag: str) -> str:
        """`skopeo copy` the layout into `repository_tag` ("test/img:1"); returns the manifest
        digest the registry serves for it (Docker-Content-Digest)."""
        if shutil.which("skopeo") is None:
            raise Unavailable("skopeo is not installed (Debian package skopeo)")
        subprocess.run(["skopeo", "--insecure-policy", "copy", "--quiet", "--dest-tls-verify=false",
                        f"oci:{image.path}:{image.tag}", f"docker://{self.host}/{repository_tag}"],
                       check=True, capture_output=True, timeout=60)
        return self.manifest_digest(repository_tag)

    def manifest_digest(self, repository_tag: str) -> str:
        """The digest the registry answers for `repository:tag` (HEAD on the manifest)."""
        repository, _, tag = repository_tag.rpartition(":")
        request = urllib.request.Request(f"{self.url}/v2/{repository}/manifests/{tag}", method="HEAD",
                                         headers={"Accept": MANIFEST_TYPE})
        with urllib.request.urlopen(request, timeout=5) as response:
            return str(response.headers["Docker-Content-Digest"])


@contextmanager
def serve_registry(base: Path) -> Iterator[Registry]:
    """Run `docker-registry serve` with its storage under `base`; stopped on exit.

    Raises Unavailable when the binary is missing or the registry does not answer /v2/."""
    binary = shutil.which(REGISTRY_BINARY)
    if binary is None:
        raise Unavailable("docker-registry is not installed (Debian package docker-registry)")
    base.mkdir(parents=True, exist_ok=True)
    port = free_port()
    config = base / "registry.yml"
    config.write_text(
        "version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: true\n"
        f"storage:\n  filesystem:\n    rootdirectory: {base / 'storage'}\n  delete:\n    enabled: true\n"
        f"http:\n  addr: 127.0.0.1:{port}\n")
    log = (base / "registry.log").open("wb")
    process = subprocess.Popen([binary, "serve", str(config)], stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_ready(f"http://127.0.0.1:{port}/v2/", process, base / "registry.log")
        yield Registry(f"127.0.0.1:{port}", base)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _wait_ready(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log.read_text(errors="replace").strip().splitlines()[-1:]
            raise Unavailable(f"docker-registry exited with {process.returncode}: {' '.join(tail)}")
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            time.sleep(0.05)
    raise Unavailable(f"docker-registry did not answer {url} within {START_SECONDS:g}s")
