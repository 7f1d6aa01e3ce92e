"""Registry adapter: existence, digests, platforms and sizes of images (docs/registry.md)."""

import logging

from reconciler.registry.client import RegistryClient, RegistrySettings
from reconciler.registry.credentials import Credentials, DockerConfig, DockerConfigError
from reconciler.registry.facts import ImageFacts, PlatformFacts
from reconciler.registry.resolving import inspect_images

__all__ = [
    "Credentials",
    "DockerConfig",
    "DockerConfigError",
    "ImageFacts",
    "PlatformFacts",
    "RegistryClient",
    "RegistrySettings",
    "inspect_images",
]

# A library's loggers stay silent until the application configures logging: without this, a
# CLI that prints its own messages would also get Python's last-resort copy on stderr.
logging.getLogger("reconciler.registry").addHandler(logging.NullHandler())
