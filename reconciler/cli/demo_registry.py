"""The demo's registry step (docs/registry.md): `plan --registry` against the embedded
cluster's simulated registry, for a change that names a typo'd tag and an amd64-only image for
both architectures. The plan holds the typo everywhere (not-in-registry), keeps the amd64-only
image off arm64 nodes (no-platform) and shows the bytes each group would move. A plan only:
nothing is written to the cluster, and the controller's fleet is left as it is.
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from datetime import UTC, datetime

from reconciler.kube.reading import observe
from reconciler.kube.session import Session
from reconciler.manifests import load_fleet
from reconciler.planner import PlannerSettings, plan_revision
from reconciler.registry import RegistrySettings
from reconciler.registry.lookup import FleetRegistry

log = logging.getLogger("edgefleet.demo")

GIB = 1024**3


def _files(host: str, images: list[str]) -> dict[str, bytes]:
    files = {"fleet.yaml": (
        "apiVersion: edgefleet.io/v1alpha1\nkind: FleetConfig\nmetadata: {name: fleet}\n"
        f"spec:\n  registries: {{insecure: [\"{host}\"]}}\n").encode()}
    for arch in ("amd64", "arm64"):
        files[f"vision-{arch}.yaml"] = "\n".join([
            "apiVersion: edgefleet.io/v1alpha1", "kind: NodeGroupImages",
            f"metadata: {{name: vision-{arch}}}",
            "spec:", "  nodes:", "    selector:", "      matchLabels:", f"        kubernetes.io/arch: {arch}",
            "      matchExpressions:", "        - {key: node-role.kubernetes.io/edge, operator: Exists}",
            "  images:", *[f"    - {image}" for image in images], ""]).encode()
    return files


def registry_step(session: Session, host: str) -> tuple[str, float, bool]:
    """Plan the change against the cluster and the simulated registry at `host`; log what the
    plan holds and the bytes per group. Returns the summary's phase (name, seconds, as expected)."""
    started = time.monotonic()
    good, amd64_only, typo = (f"{host}/edge/telemetry-agent:1.5.0", f"{host}/vision/inspector:2.5.0",
                              f"{host}/edge/telemetry-agent:1.50")
    fleet = load_fleet(_files(host, [good, amd64_only, typo])).fleet
    if fleet is None:
        raise RuntimeError("the demo's registry change does not load")
    lookup = FleetRegistry(RegistrySettings(insecure=frozenset({host})))
    try:
        facts = replace(observe(session), registry=lookup(fleet))
    finally:
        lookup.close()
    plan = plan_revision(fleet, facts, now=datetime.now(UTC), revision=None,
                         settings=PlannerSettings()).to_dict()
    registry = plan.get("registry") or {}
    log.info("plan --registry against the simulated registry %s (a plan: nothing is written)", host)
    for held in registry.get("held", []):
        log.info("   held %s (%s) on %d node(s) of %s: %s", held["image"].removeprefix(f"{host}/"),
                 held["reason"], held["nodes"], held["group"], held["detail"])
    moved = ", ".join(f"{b['group']} {b['bytes'] / GIB:.1f} GiB" for b in registry.get("bytesToTransfer", []))
    log.info("   bytes to transfer per group: %s", moved or "none")
    reasons = {(h["image"], h["reason"]) for h in registry.get("held", [])}
    sent = {i for job in plan.get("create", []) for i in job["spec"]["imagePrePullTemplate"]["images"]}
    ok = (typo, "not-in-registry") in reasons and typo not in sent and bool(moved)
    name = (f"plan --registry: {typo.rpartition('/')[2]} held (not-in-registry), amd64-only "
            f"{amd64_only.rpartition('/')[2]} kept off arm64, bytes per group")
    return name, time.monotonic() - started, ok

