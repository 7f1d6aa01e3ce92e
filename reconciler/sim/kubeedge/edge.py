"""Simulated edge nodes: an image store, a link, a disk, a behaviour, and the EdgeCore side of
an image prepull (pre-check, CRI pull with ImageStatus first, retries, secrets).

`EdgeNode` is plain mutable state owned by the KubeEdge driver thread. The prepull functions
(`run_check`, `simulate_pull`) compute an outcome from the node's state without changing it;
the driver applies the outcome's image arrivals at their simulated times.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Literal

from reconciler.manifests.imageref import normalize_image
from reconciler.sim.apiserver.errors import Obj
from reconciler.sim.kubeedge.registry import ImageCatalogue, RegistryImage
from reconciler.sim.kubeedge.taskmanager_v1alpha2 import ImageResult

GIB = 1024**3
CHECK_THRESHOLD = 80.0  # percent, hard-coded by KubeEdge for cpu, mem and disk
MAX_NAMES_PER_IMAGE = 5  # kubelet's maxNamesPerImageInNodeStatus
GC_HIGH, GC_LOW = 0.85, 0.80  # kubelet imageGCHighThresholdPercent / LowThresholdPercent
GC_MIN_AGE = timedelta(minutes=2)  # kubelet imageMinimumGCAge
RETRY_DELAY = 0.5  # seconds between whole-list attempts (v1alpha2)
REPORT_LATENCY = 0.5  # seconds for a cloud->edge->cloud round trip


class Behaviour(StrEnum):
    """How a node acts: see the module docstring of the driver for the effects."""

    ONLINE = "online"
    OFFLINE = "offline"  # disconnected, NotReady
    FLAPPING = "flapping"  # alternates online/offline
    SILENT = "silent"  # Ready and connected, receives tasks, never answers (kubeedge#7049)


@dataclass
class StoredImage:
    """An image in the node's CRI store."""

    image: RegistryImage
    pulled_at: datetime
    in_use: bool = False  # a running container uses it: image GC never removes it


@dataclass
class EdgeNode:
    """One edge node's simulated state."""

    name: str
    site: str = "default"
    arch: str = "amd64"
    link_bps: float = 12_500_000.0  # 100 Mbit/s
    disk_bytes: int = 64 * GIB
    system_bytes: int = 6 * GIB  # OS and everything that is not an image
    cpu_percent: float = 20.0
    mem_percent: float = 35.0
    behaviour: Behaviour = Behaviour.ONLINE
    flap_up_seconds: float = 240.0
    flap_down_seconds: float = 120.0
    labels: dict[str, str] = field(default_factory=dict)
    images: dict[str, StoredImage] = field(default_factory=dict)
    connected: bool = True  # current link to CloudCore (flapping toggles it)

    @property
    def ready(self) -> bool:
        """Ready=True on the Node: connected and not offline."""
        return self.connected and self.behaviour is not Behaviour.OFFLINE

    @property
    def answers(self) -> bool:
        """Whether reports from this node reach the cloud now."""
        return self.ready and self.behaviour is not Behaviour.SILENT

    def disk_used(self) -> int:
        return self.system_bytes + sum(s.image.size for s in self.images.values())

    def has(self, ref: str) -> bool:
        """CRI ImageStatus: is this normalized reference present?"""
        return ref in self.images

    def add_image(self, image: RegistryImage, now: datetime) -> None:
        self.images[image.ref] = StoredImage(image, now)

    def collect_garbage(self, now: datetime) -> list[str]:
        """kubelet image GC: above GC_HIGH of the disk, remove unused images older than
        GC_MIN_AGE, least recently pulled first, until below GC_LOW. Returns removed refs."""
        if self.disk_used() <= GC_HIGH * self.disk_bytes:
            return []
        removed: list[str] = []
        candidates = sorted((s for s in self.images.values()
                             if not s.in_use and now - s.pulled_at >= GC_MIN_AGE),
                            key=lambda s: (s.pulled_at, s.image.ref))
        for stored in candidates:
            if self.disk_used() <= GC_LOW * self.disk_bytes:
                break
            del self.images[stored.image.ref]
            removed.append(stored.image.ref)
        return removed

    def status_images(self, cap: int) -> list[Obj]:
        """`node.status.images` as the kubelet reports it: by size descending, at most `cap`
        images (-1: all, 0: none), names = digests then tags, at most five per image."""
        if cap == 0:
            return []
        ordered = sorted(self.images.values(), key=lambda s: (-s.image.size, s.image.ref))
        if cap > 0:
            ordered = ordered[:cap]
        return [{"names": image_names(s.image), "sizeBytes": s.image.size} for s in ordered]


def image_names(image: RegistryImage) -> list[str]:
    """The names CRI lists for an image: repo digest first, then the tag reference."""
    names = [image.repo_digest]
    if "@" not in image.ref:
        names.append(image.ref)
    return names[:MAX_NAMES_PER_IMAGE]


def run_check(node: EdgeNode, items: Sequence[str], *, unknown_fails: bool) -> tuple[bool, str]:
    """EdgeCore's pre-check: (ok, reason). Thresholds 80 % for cpu, mem and disk.

    An unknown item fails the check in v1alpha2 (`unknown_fails`) and is only recorded in the
    reason in v1alpha1."""
    problems: list[str] = []
    ok = True
    for item in items:
        if item == "cpu":
            usage = node.cpu_percent
        elif item == "mem":
            usage = node.mem_percent
        elif item == "disk":
            usage = 100.0 * node.disk_used() / node.disk_bytes
        else:
            problems.append(f"check item {item} not support")
            ok = ok and not unknown_fails
            continue
        if usage > CHECK_THRESHOLD:
            problems.append(f"{item} usage {usage:.2f}% exceeds the {CHECK_THRESHOLD:.0f}% threshold")
            ok = False
    return ok, "; ".join(problems)


# none: no secret; ok: credentials; anonymous: the secret decodes to empty credentials, so the
# pull runs without any (a standard {"auths": ...} secret, docs/kubeedge.md §4.5); the rest fail.
SecretState = Literal["none", "ok", "anonymous", "bad-format", "missing", "bad-content"]
USABLE_SECRET_STATES = frozenset({"none", "ok", "anonymous"})


def secret_error(secret: str, state: SecretState) -> str:
    """The edge's error text for a secret it cannot use (it never reads the contents)."""
    name = secret.split("/", 1)[-1]
    if state == "bad-format":
        return "pull secret format is not correct"
    if state == "missing":
        return f'get secret {name} failed, secrets "{name}" not found'
    return f"unmarshal secret {name} to auth file failed, missing .dockerconfigjson"


@dataclass(frozen=True, slots=True)
class PullOutcome:
    """What a prepull does on a node: per-image results (of the last attempt), whether it
    succeeded, how long it takes, and when each pulled image lands in the store."""

    ok: bool
    results: tuple[ImageResult, ...]
    seconds: float
    arrivals: tuple[tuple[float, RegistryImage], ...] = ()
    reason: str = ""


def _pull_one(node: EdgeNode, ref: str, catalogue: ImageCatalogue, authed: bool,
              projected: dict[str, RegistryImage]) -> tuple[RegistryImage | None, str, float]:
    """One CRI PullImage: (image or None, error, seconds). ImageStatus (the node's own store)
    is checked before the registry is asked, so a held image succeeds whatever the registry
    says."""
    try:
        norm = normalize_image(ref)
    except ValueError:
        norm = ref
    if node.has(norm) or norm in projected:
        return None, "", 0.0
    image = catalogue.lookup(ref)
    prefix = f'rpc error: code = Unknown desc = failed to pull and unpack image "{norm}"'
    if image is None:
        return None, (f'rpc error: code = NotFound desc = failed to pull and unpack image "{norm}": '
                      f'failed to resolve reference "{norm}": {norm}: not found'), 0.2
    if image.needs_secret and not authed:
        return None, (f"{prefix}: failed to resolve reference \"{norm}\": pull access denied, "
                      "repository does not exist or may require authorization: "
                      "authorization failed: no basic auth credentials"), 0.2
    used = node.disk_used() + sum(i.size for i in projected.values())
    if used + image.size > node.disk_bytes:
        return None, f"{prefix}: failed to extract layer: no space left on device", image.size / node.link_bps
    return image, "", image.size / node.link_bps


def simulate_pull(node: EdgeNode, images: Sequence[str], catalogue: ImageCatalogue, *,
                  secret: str, secret_state: SecretState, attempts: int,
                  whole_list: bool) -> PullOutcome:
    """The edge Pull action, without changing `node`.

    `attempts` is retryTimes+1 (0 when retryTimes is -1 and the silent-success bug applies).
    `whole_list` (v1alpha2): the whole list is retried, 500 ms apart, and zero attempts return
    success with no imageStatus at all. Otherwise (v1alpha1) each image is retried with no
    delay, and zero attempts report every image Successful without pulling anything.
    A secret that cannot be used fails the pull (v1alpha1 callers decide on the bug switch)."""
    if secret_state not in USABLE_SECRET_STATES:
        return PullOutcome(False, (), REPORT_LATENCY, reason=secret_error(secret, secret_state))
    authed = secret_state == "ok"
    projected: dict[str, RegistryImage] = {}
    arrivals: list[tuple[float, RegistryImage]] = []
    elapsed = 0.0
    results: list[ImageResult] = []
    if whole_list:
        for attempt in range(attempts):
            if attempt:
                elapsed += RETRY_DELAY
            results = []
            for ref in images:
                image, error, seconds = _pull_one(node, ref, catalogue, authed, projected)
                elapsed += seconds
                if image is not None:
                    projected[image.ref] = image
                    arrivals.append((elapsed, image))
                results.append(ImageResult(ref, not error, error))
            if all(r.ok for r in results):
                break
    else:
        for ref in images:
            error = ""
            for _ in range(attempts):
                image, error, seconds = _pull_one(node, ref, catalogue, authed, projected)
                elapsed += seconds
                if image is not None:
                    projected[image.ref] = image
                    arrivals.append((elapsed, image))
                if not error:
                    break
            results.append(ImageResult(ref, not error, error))
    ok = all(r.ok for r in results)
    return PullOutcome(ok, tuple(results), elapsed + REPORT_LATENCY, tuple(arrivals))
