"""Debian's `containerd` as a private process: its own root, state, sockets and registry hosts
under a temporary directory, so it never meets the machine's own containerd (if any).

    with run_containerd(tmp, plain_http=[registry.host]) as runtime:
        runtime.pull("127.0.0.1:5000/test/img:1")   # CRI PullImage: records repo digests
        runtime.remove("127.0.0.1:5000/test/img:1") # CRI RemoveImage

The CRI plugin uses the overlayfs snapshotter, or native when overlayfs is refused (for
example /tmp on an overlay filesystem). Needs root; raises Unavailable otherwise.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import grpc

from reconciler.agent.cri import api_pb2, api_pb2_grpc
from tests.realparts import Unavailable

START_SECONDS = 15.0
CRI_TIMEOUT = 60.0


@dataclass
class Containerd:
    """A running private containerd: its CRI `socket`, `snapshotter` and a CRI client."""

    socket: str
    snapshotter: str
    directory: Path

    def _images(self) -> api_pb2_grpc.ImageServiceStub:
        return api_pb2_grpc.ImageServiceStub(grpc.insecure_channel(f"unix://{self.socket}"))

    def pull(self, ref: str) -> str:
        """CRI PullImage `ref` (as the kubelet does); returns the image id."""
        response = self._images().PullImage(
            api_pb2.PullImageRequest(image=api_pb2.ImageSpec(image=ref)), timeout=CRI_TIMEOUT)
        return str(response.image_ref)

    def remove(self, ref: str) -> None:
        """CRI RemoveImage `ref` (what the kubelet's image GC calls)."""
        self._images().RemoveImage(
            api_pb2.RemoveImageRequest(image=api_pb2.ImageSpec(image=ref)), timeout=CRI_TIMEOUT)

    def ctr(self, *args: str) -> str:
        """Run `ctr` against this containerd in the CRI namespace; returns stdout."""
        done = subprocess.run(["ctr", "--address", self.socket, "--namespace", "k8s.io", *args],
                              check=True, capture_output=True, text=True, timeout=60)
        return done.stdout


def _config(directory: Path, snapshotter: str) -> str:
    return f"""\
version = 2
root = "{directory}/root"
state = "{directory}/state"
[grpc]
  address = "{directory}/containerd.sock"
[ttrpc]
  address = "{directory}/containerd.sock.ttrpc"
[debug]
  address = "{directory}/debug.sock"
[metrics]
  address = ""
[plugins."io.containerd.internal.v1.opt"]
  path = "{directory}/opt"
[plugins."io.containerd.grpc.v1.cri"]
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "{snapshotter}"
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "{directory}/certs.d"
"""


def _plain_http_hosts(directory: Path, hosts: Iterable[str]) -> None:
    for host in hosts:
        folder = directory / "certs.d" / host
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "hosts.toml").write_text(
            f'server = "http://{host}"\n\n[host."http://{host}"]\n'
            '  capabilities = ["pull", "resolve"]\n  skip_verify = true\n')


@contextmanager
def run_containerd(plain_http: Iterable[str] = ()) -> Iterator[Containerd]:
    """Start a private containerd (registries in `plain_http` reached over HTTP); stop and
    delete it on exit. Raises Unavailable with the reason when it cannot run here."""
    if shutil.which("containerd") is None or shutil.which("ctr") is None:
        raise Unavailable("containerd is not installed (Debian package containerd)")
    if os.geteuid() != 0:
        raise Unavailable("containerd needs root (snapshotters mount and chown)")
    # A short path: unix socket paths are limited to 107 bytes, pytest's tmp_path is long.
    directory = Path(tempfile.mkdtemp(prefix="ef-ctrd-"))
    _plain_http_hosts(directory, plain_http)
    try:
        for snapshotter in ("overlayfs", "native"):
            with _started(directory, snapshotter) as runtime:
                if _snapshotter_ok(runtime, snapshotter):
                    yield runtime
                    return
        raise Unavailable("containerd started, but neither the overlayfs nor the native snapshotter loaded")
    finally:
        shutil.rmtree(directory, ignore_errors=True)


@contextmanager
def _started(directory: Path, snapshotter: str) -> Iterator[Containerd]:
    config = directory / "config.toml"
    config.write_text(_config(directory, snapshotter))
    socket = str(directory / "containerd.sock")
    log_path = directory / f"containerd-{snapshotter}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(["containerd", "--config", str(config)], stdout=log,
                                   stderr=subprocess.STDOUT)
    runtime = Containerd(socket, snapshotter, directory)
    try:
        _wait_ready(runtime, process, log_path)
        yield runtime
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_ready(runtime: Containerd, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log.read_text(errors="replace").strip().splitlines()[-1:]
            raise Unavailable(f"containerd exited with {process.returncode}: {' '.join(tail)}")
        if os.path.exists(runtime.socket):
            try:
                runtime.ctr("version")
                return
            except subprocess.CalledProcessError:
                pass
        time.sleep(0.05)
    raise Unavailable(f"containerd did not serve {runtime.socket} within {START_SECONDS:g}s")


def _snapshotter_ok(runtime: Containerd, snapshotter: str) -> bool:
    """Whether the snapshotter plugin and the CRI plugin both loaded ("ok" in `ctr plugins ls`)."""
    rows = [line.split() for line in runtime.ctr("plugins", "ls").splitlines()]
    status = {(row[0], row[1]): row[-1] for row in rows if len(row) >= 3}
    return (status.get(("io.containerd.snapshotter.v1", snapshotter)) == "ok"
            and status.get(("io.containerd.grpc.v1", "cri")) == "ok")
