"""The CRI adapter: what the node's container runtime holds, over its unix socket (thin).

Three read-only calls of the CRI `runtime.v1` API, each with a deadline: `Version`
(RuntimeService), `ListImages` and `ImageFsInfo` (ImageService). The answers become the plain
records of reconciler/agent/report.py; nothing else here decides anything. The image-fs
capacity is not part of the CRI: it is read with statvfs on the mountpoint the runtime names,
when that path is visible to the agent (a DaemonSet mounts the runtime's root read-only).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import grpc

from reconciler.agent.cri import api_pb2, api_pb2_grpc
from reconciler.agent.report import ImageFs, RuntimeImage, RuntimeInfo

#: containerd's socket, then CRI-O's: the order `--cri-socket` is guessed in.
DEFAULT_SOCKETS = ("/run/containerd/containerd.sock", "/var/run/crio/crio.sock")
#: Seconds each CRI call may take (ListImages answers in about a millisecond on a small node).
DEFAULT_TIMEOUT = 10.0
#: ListImages of a node with thousands of images can exceed gRPC's default 4 MiB message limit.
MAX_MESSAGE_BYTES = 64 * 1024 * 1024


class CriError(Exception):
    """The runtime cannot be read (no socket, not a CRI server, timeout); `str()` is one line."""


@dataclass(frozen=True, slots=True)
class RuntimeSnapshot:
    """Everything one poll of the runtime returned, as plain records."""

    images: list[RuntimeImage]
    image_fs: ImageFs
    runtime: RuntimeInfo


def choose_socket(explicit: str | None, candidates: Iterable[str] = DEFAULT_SOCKETS) -> str:
    """The CRI socket to use: `explicit` as given, else the first candidate that exists, else
    the first candidate (so the error names the usual path)."""
    if explicit:
        return explicit
    ordered = list(candidates)
    return next((c for c in ordered if os.path.exists(c)), ordered[0])


def images_from_response(response: Any) -> list[RuntimeImage]:
    """CRI ListImagesResponse -> RuntimeImage records."""
    return [RuntimeImage(id=str(i.id), repo_tags=tuple(str(t) for t in i.repo_tags),
                         repo_digests=tuple(str(d) for d in i.repo_digests), size=int(i.size))
            for i in response.images]


def image_fs_from_response(response: Any, capacity_of: Any = None) -> ImageFs:
    """CRI ImageFsInfoResponse -> ImageFs: bytes used summed over the image filesystems;
    capacity from `capacity_of(mountpoint)` (statvfs by default) when every one is readable."""
    read_capacity = capacity_of or filesystem_capacity
    used: int | None = None
    capacity: int | None = 0
    for usage in response.image_filesystems:
        if usage.HasField("used_bytes"):
            used = (used or 0) + int(usage.used_bytes.value)
        size = read_capacity(str(usage.fs_id.mountpoint))
        capacity = None if size is None or capacity is None else capacity + size
    if not response.image_filesystems:
        capacity = None
    return ImageFs(used_bytes=used, capacity_bytes=capacity)


def runtime_from_response(response: Any) -> RuntimeInfo:
    """CRI VersionResponse -> RuntimeInfo."""
    return RuntimeInfo(name=str(response.runtime_name), version=str(response.runtime_version))


def filesystem_capacity(mountpoint: str) -> int | None:
    """Total bytes of the filesystem holding `mountpoint`; None when the path is not visible."""
    if not mountpoint:
        return None
    try:
        fs = os.statvfs(mountpoint)
    except OSError:
        return None
    return fs.f_blocks * fs.f_frsize


class CriRuntime:
    """A connection to one CRI server. Use as a context manager, or call `close()`."""

    def __init__(self, socket: str, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.socket = socket
        self.timeout = timeout
        self._channel = grpc.insecure_channel(f"unix://{socket}", options=[
            ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES)])
        self.images = api_pb2_grpc.ImageServiceStub(self._channel)
        self.runtime = api_pb2_grpc.RuntimeServiceStub(self._channel)

    def close(self) -> None:
        """Close the channel."""
        self._channel.close()

    def __enter__(self) -> CriRuntime:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def snapshot(self) -> RuntimeSnapshot:
        """Version, ListImages and ImageFsInfo in one go. Raises CriError (one line)."""
        self._check_socket()
        version = self._call("Version", self.runtime.Version, api_pb2.VersionRequest(version="v1"))
        listed = self._call("ListImages", self.images.ListImages, api_pb2.ListImagesRequest())
        fs_info = self._call("ImageFsInfo", self.images.ImageFsInfo, api_pb2.ImageFsInfoRequest())
        return RuntimeSnapshot(images=images_from_response(listed),
                               image_fs=image_fs_from_response(fs_info),
                               runtime=runtime_from_response(version))

    def _check_socket(self) -> None:
        path = Path(self.socket)
        try:
            mode = path.stat().st_mode
        except FileNotFoundError:
            raise CriError(f"CRI socket {self.socket} does not exist: is the container runtime "
                                "running, and is its socket mounted (--cri-socket)?") from None
        except OSError as error:
            raise CriError(f"CRI socket {self.socket}: {error.strerror}") from None
        if not stat.S_ISSOCK(mode):
            raise CriError(f"CRI socket {self.socket} is not a unix socket")

    def _call(self, name: str, method: Any, request: Any) -> Any:
        try:
            return method(request, timeout=self.timeout)
        except grpc.RpcError as error:
            code = error.code() if hasattr(error, "code") else None
            details = error.details() if hasattr(error, "details") else str(error)
            if code == grpc.StatusCode.UNIMPLEMENTED:
                why = "is not a CRI runtime.v1 server (UNIMPLEMENTED)"
            elif code == grpc.StatusCode.DEADLINE_EXCEEDED:
                why = f"did not answer within {self.timeout:g}s"
            elif code == grpc.StatusCode.UNAVAILABLE and "HTTP/2" in str(details):
                why = "is not a CRI server (it does not speak gRPC)"
            elif code == grpc.StatusCode.UNAVAILABLE:
                why = f"is unavailable ({' '.join(str(details).split())})"
            else:
                why = f"failed: {getattr(code, 'name', code)}: {' '.join(str(details).split())}"
            raise CriError(f"CRI {name} on {self.socket} {why}") from None
