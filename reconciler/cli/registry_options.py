"""The registry options of `plan`, `sync` and `run` (docs/registry.md): `--registry` feeds
the plan the registry's facts; the rest say how to reach the registries."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from reconciler.cli.messages import fail
from reconciler.registry import DockerConfig, DockerConfigError, RegistrySettings
from reconciler.registry.lookup import FleetRegistry

RegistryOption = Annotated[bool, typer.Option(
    "--registry", help=(
        "Ask each image's registry before planning: an image not in its registry or without a "
        "node's platform is held back, pinDigests groups pull by digest, the plan shows bytes to "
        "transfer. A registry that does not answer is a warning: its images are planned as "
        "without --registry (pinned ones are held); no job is ever deleted for it."))]
InsecureOption = Annotated[list[str] | None, typer.Option(
    "--insecure-registry", metavar="HOST[:PORT]",
    help="With --registry: speak plain HTTP to this registry (repeatable; adds to "
         "spec.registries.insecure).")]
DockerConfigOption = Annotated[Path | None, typer.Option(
    "--docker-config", metavar="FILE", help="With --registry: credentials, a docker config.json.")]
RegistryCaOption = Annotated[Path | None, typer.Option(
    "--registry-ca", metavar="FILE", help="With --registry: extra CA bundle (PEM) for registry TLS.")]


def read_docker_config(path: Path | None) -> DockerConfig | None:
    """The docker config at `path` (None: anonymous); a one-line error that never quotes it."""
    if path is None:
        return None
    try:
        return DockerConfig.from_json(path.read_bytes())
    except OSError as err:
        fail(f"--docker-config {path}: {err.strerror or err}")
    except DockerConfigError as err:
        fail(f"--docker-config {path}: {err}")


def open_registry(enabled: bool, insecure: list[str] | None, docker_config: Path | None,
                  ca_file: Path | None, *, timeout_seconds: float = 10.0) -> FleetRegistry | None:
    """The registry lookup the options ask for, or None without `--registry`."""
    if not enabled:
        if insecure or docker_config is not None or ca_file is not None:
            fail("--insecure-registry, --docker-config and --registry-ca need --registry")
        return None
    if ca_file is not None and not ca_file.is_file():
        fail(f"--registry-ca {ca_file}: no such file")
    settings = RegistrySettings(insecure=frozenset(h.lower() for h in insecure or ()),
                                timeout_seconds=timeout_seconds,
                                ca_file=str(ca_file) if ca_file is not None else None)
    try:
        return FleetRegistry(settings, read_docker_config(docker_config))
    except OSError as err:  # e.g. a CA file that is not PEM
        fail(f"--registry-ca {ca_file}: {err}")
