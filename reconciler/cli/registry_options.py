"""The registry options of `plan`, `sync`, `run`, `drift` and `review` (docs/registry.md):
`--registry` feeds the plan the registry's facts; the rest say how to reach the registries.
When the cluster is read live, each image is authenticated with its group's pull secret, and
`--docker-config` is the fallback for registries the secret has nothing for."""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from pathlib import Path
from typing import Annotated

import typer

from reconciler.cli.messages import fail
from reconciler.kube.pull_secrets import read_pull_secrets
from reconciler.kube.session import Session
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
    "--docker-config", metavar="FILE",
    help="With --registry: credentials, a docker config.json. With a live cluster the groups' pull "
         "secrets are used first; this file covers the registries they say nothing for.")]
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


def with_pull_secrets(lookup: FleetRegistry | None, session: Session) -> None:
    """Authenticate `lookup`'s images with their groups' pull secrets, read through `session`
    (kube/pull_secrets.py) on every lookup: a rotated secret is used at the next cycle."""
    if lookup is not None:
        lookup.use_pull_secrets(partial(read_pull_secrets, session))


def with_live_pull_secrets(lookup: FleetRegistry | None, kubeconfig: Path | None,
                           context: str | None) -> None:
    """`with_pull_secrets` for a one-shot command: a session of its own, opened per lookup."""
    if lookup is None:
        return

    def read(refs: Iterable[str]) -> dict[str, bytes]:
        session = Session.from_kubeconfig(kubeconfig, context)
        try:
            return read_pull_secrets(session, refs)
        finally:
            session.close()

    lookup.use_pull_secrets(read)
