"""What a registry says about one image: plain values, decoded by the registry adapter
(reconciler/registry) and read by the pure planner (planner/registry_rules.py).

`exists` has three states: True (the registry serves the reference), False (the registry
answered that the tag or digest does not exist), None (unknown: the registry did not answer,
refused our credentials, or sent something unreadable; `error` says which). A planner treats
None as "no registry facts", which is edgefleet's behaviour without a registry check.
"""

from __future__ import annotations

import msgspec


class PlatformFacts(msgspec.Struct, frozen=True, kw_only=True, rename="camel", order=True):
    """One platform an image offers: the manifest for it and its compressed layer bytes."""

    os: str
    architecture: str
    variant: str | None = None
    digest: str  # the platform's manifest digest
    size_bytes: int  # sum of the compressed layer sizes: the bytes a node pulls at most

    def matches(self, os: str, architecture: str, variant: str | None = None) -> bool:
        """Whether a node of `os`/`architecture` (and `variant`, when both name one) runs it."""
        if (self.os, self.architecture) != (os, architecture):
            return False
        return variant is None or self.variant is None or self.variant == variant


class ImageFacts(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    """The registry's answer for one normalized reference (see the module docstring)."""

    reference: str
    exists: bool | None
    digest: str | None = None  # what the tag means now (the index digest for multi-arch images)
    media_type: str | None = None
    platforms: tuple[PlatformFacts, ...] = ()  # sorted; empty when exists is not True
    error: str | None = None  # why exists is False or None, for people; never holds a secret

    def platform_for(self, os: str, architecture: str, variant: str | None = None) -> PlatformFacts | None:
        """The platform a node of `os`/`architecture`/`variant` would pull, or None."""
        for platform in self.platforms:
            if platform.matches(os, architecture, variant):
                return platform
        return None
