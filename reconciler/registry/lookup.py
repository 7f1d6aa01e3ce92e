"""The registry facts a plan is fed: every image of a fleet, asked through one long-lived
client, so that the daemon's cycles share its cache (docs/registry.md, "Caching")."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from reconciler.manifests.fleet import Fleet
from reconciler.registry.client import RegistryClient, RegistrySettings
from reconciler.registry.credentials import DockerConfig
from reconciler.registry.facts import ImageFacts
from reconciler.registry.resolving import inspect_images


class FleetRegistry:
    """`lookup(fleet)` -> facts per committed image of the fleet's active groups. Never raises
    for a registry that does not answer (those images get `exists=None`). Close it when done."""

    def __init__(self, settings: RegistrySettings, credentials: DockerConfig | None = None, *,
                 clock: Callable[[], float] = time.monotonic,
                 event_hooks: Mapping[str, list[Callable[..., Any]]] | None = None) -> None:
        self._settings = settings
        self._credentials = credentials
        self._options: dict[str, Any] = {"clock": clock, "event_hooks": event_hooks}  # benchmarks count
        self._client = RegistryClient(settings, **self._options)

    def __call__(self, fleet: Fleet) -> dict[str, ImageFacts]:
        insecure = self._settings.insecure | frozenset(fleet.insecure_registries)
        if insecure != self._client.settings.insecure:
            # The revision lists another insecure registry: a new client (and cache) for it.
            self._client.close()
            self._client = RegistryClient(replace(self._settings, insecure=insecure), **self._options)
        images = sorted({i.image for g in fleet.groups if not g.suspend for i in g.images})
        return inspect_images(self._client, dict.fromkeys(images, self._credentials))

    def close(self) -> None:
        """Close the client's connections."""
        self._client.close()

    def __repr__(self) -> str:  # the credentials' own repr hides them; say nothing of them
        return f"FleetRegistry(insecure={sorted(self._settings.insecure)})"
