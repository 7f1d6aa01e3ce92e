"""`edgefleet validate --registry`: ask each image's registry whether it has the image.

Exit 1 when a registry says an image (tag or digest) does not exist, with one
`path:line:col:` line per place the image is written; a registry that cannot tell (down,
refusing our credentials) is a warning, and an error only with `--strict`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import typer

from reconciler.cli.registry_options import read_docker_config
from reconciler.manifests import Diagnostic
from reconciler.manifests.diagnostics import Severity
from reconciler.manifests.fleet import Fleet
from reconciler.manifests.locations import image_locations
from reconciler.manifests.quoting import quote
from reconciler.registry import RegistryClient, RegistrySettings, inspect_images


@dataclass(frozen=True, slots=True)
class RegistryCheck:
    """The `validate --registry` options."""

    insecure: tuple[str, ...] = ()
    docker_config: Path | None = None
    ca_file: Path | None = None
    timeout_seconds: float = 10.0
    strict: bool = False


def _places(
    image: str, locations: Mapping[str, tuple[tuple[str, int, int], ...]]
) -> list[tuple[str, int, int]]:
    return list(locations.get(image, ())) or [("", 0, 0)]


def check_registry(
    fleet: Fleet, files: Mapping[str, bytes], check: RegistryCheck
) -> tuple[int, list[Diagnostic]]:
    """Ask the registries about every distinct image of `fleet`.

    Returns (exit code, diagnostics at the places the images are written, unsorted paths
    relative to the fleet root). Prints nothing; reads the docker config file if given.
    """
    credentials = read_docker_config(check.docker_config)
    settings = RegistrySettings(
        insecure=frozenset(h.lower() for h in check.insecure) | frozenset(fleet.insecure_registries),
        timeout_seconds=check.timeout_seconds,
        ca_file=str(check.ca_file) if check.ca_file is not None else None,
    )
    with RegistryClient(settings) as client:
        facts = inspect_images(client, dict.fromkeys(sorted(fleet.distinct_images), credentials))
    locations = image_locations(files)
    found: list[Diagnostic] = []
    for image, fact in sorted(facts.items()):
        if fact.exists is True:
            continue
        severity: Severity = "error" if fact.exists is False or check.strict else "warning"
        what = "is not in its registry" if fact.exists is False else "could not be checked"
        for path, line, col in _places(image, locations):
            found.append(Diagnostic(path, line, col, f"image {quote(image)} {what}: {fact.error}", severity))
    missing = sum(1 for f in facts.values() if f.exists is False)
    unknown = sum(1 for f in facts.values() if f.exists is None)
    typer.echo(
        f"registry: {len(facts) - missing - unknown} of {len(facts)} images found, {missing} missing, "
        f"{unknown} not checked"
    )
    failed = missing > 0 or (check.strict and unknown > 0)
    return (1 if failed else 0), found
