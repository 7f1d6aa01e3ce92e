"""What the registry says about one image: the values live in observed/registry.py (the
pure planner reads them); this module adds how the adapter builds an unknown one."""

from __future__ import annotations

from reconciler.observed.registry import ImageFacts, PlatformFacts

__all__ = ["ImageFacts", "PlatformFacts", "unknown"]


def unknown(reference: str, error: str) -> ImageFacts:
    """Facts for an image the registry could not tell us about."""
    return ImageFacts(reference=reference, exists=None, error=error)
