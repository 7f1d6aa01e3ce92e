"""Many images at once: each distinct reference asked once, a bounded number at a time."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor

from reconciler.registry.client import RegistryClient
from reconciler.registry.credentials import DockerConfig
from reconciler.registry.facts import ImageFacts, unknown

log = logging.getLogger("reconciler.registry")


def inspect_images(
    client: RegistryClient,
    images: Mapping[str, DockerConfig | None] | Iterable[str],
    *,
    max_concurrency: int | None = None,
) -> dict[str, ImageFacts]:
    """Facts for every reference of `images` (a mapping gives each one the pull credentials
    to use, e.g. its group's decoded pull secret), keyed by the reference as given.

    At most `max_concurrency` (default: the client's setting) images are resolved at a
    time. Never raises for one image: an image whose resolution fails, even for a bug,
    gets `exists=None` and its reason, so that planning goes on without registry facts.
    """
    wanted = dict(images) if isinstance(images, Mapping) else dict.fromkeys(images)
    if not wanted:
        return {}
    bound = max(1, min(max_concurrency or client.settings.max_concurrency, len(wanted)))
    with ThreadPoolExecutor(max_workers=bound, thread_name_prefix="registry") as pool:
        futures = {ref: pool.submit(client.inspect, ref, creds) for ref, creds in wanted.items()}
    results: dict[str, ImageFacts] = {}
    for ref, future in futures.items():
        try:
            results[ref] = future.result()
        except Exception as err:  # a bug must not block planning; its type is enough to find it
            log.warning("registry facts unknown for %s: unexpected %s", ref, type(err).__name__)
            results[ref] = unknown(ref, f"unexpected {type(err).__name__} while asking the registry")
    return results
