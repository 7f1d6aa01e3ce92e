"""The registry facts a plan is fed: every image of a fleet, asked through one long-lived
client, so that the daemon's cycles share its cache (docs/registry.md, "Caching").

Credentials per image: the pull secret its group names (the job's `imageSecrets`), read from
the cluster by the caller's `pull_secrets` reader (the kube adapter) each time the fleet is
looked up, then the `--docker-config` file for the registries the secret has nothing for. The
secrets' contents are parsed here and kept only for the lookup; never logged, never in a fact.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from typing import Any

from reconciler.manifests.fleet import Fleet
from reconciler.registry.client import RegistryClient, RegistrySettings
from reconciler.registry.credentials import DockerConfig, DockerConfigError
from reconciler.registry.facts import ImageFacts
from reconciler.registry.resolving import inspect_images

log = logging.getLogger("reconciler.registry")

#: `namespace/name` refs -> the decoded `.dockerconfigjson` of each readable one (kube adapter).
PullSecretReader = Callable[[Iterable[str]], Mapping[str, bytes]]


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
        self._pull_secrets: PullSecretReader | None = None

    def use_pull_secrets(self, reader: PullSecretReader | None) -> None:
        """Authenticate each image with its group's pull secret, read through `reader` (None:
        only the docker config given at construction)."""
        self._pull_secrets = reader

    def __call__(self, fleet: Fleet) -> dict[str, ImageFacts]:
        insecure = self._settings.insecure | frozenset(fleet.insecure_registries)
        if insecure != self._client.settings.insecure:
            # The revision lists another insecure registry: a new client (and cache) for it.
            self._client.close()
            self._client = RegistryClient(replace(self._settings, insecure=insecure), **self._options)
        return inspect_images(self._client, self._credentials_by_image(fleet))

    def _credentials_by_image(self, fleet: Fleet) -> dict[str, DockerConfig | None]:
        """Per image of the active groups: its secret's config (the first group by name that
        names a readable one), before the docker config file."""
        named: dict[str, list[str]] = {}
        for group in sorted((g for g in fleet.groups if not g.suspend), key=lambda g: g.name):
            for item in group.images:
                named.setdefault(item.image, [])
                if item.secret:
                    named[item.image].append(item.secret)
        secrets = self._read_secrets({ref for refs in named.values() for ref in refs})
        result: dict[str, DockerConfig | None] = {}
        for image in sorted(named):
            config = next((secrets[ref] for ref in named[image] if ref in secrets), None)
            result[image] = config.before(self._credentials) if config is not None else self._credentials
        return result

    def _read_secrets(self, refs: set[str]) -> dict[str, DockerConfig]:
        if self._pull_secrets is None or not refs:
            return {}
        configs: dict[str, DockerConfig] = {}
        for ref, data in self._pull_secrets(sorted(refs)).items():
            try:
                configs[ref] = DockerConfig.from_json(data)
            except DockerConfigError as err:  # the message never quotes the secret
                log.warning("pull secret %s: %s; its images are asked with --docker-config only", ref, err)
        return configs

    def close(self) -> None:
        """Close the client's connections."""
        self._client.close()

    def __repr__(self) -> str:  # the credentials' own repr hides them; say nothing of them
        return f"FleetRegistry(insecure={sorted(self._settings.insecure)})"
