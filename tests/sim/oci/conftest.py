"""The simulated registry over the realistic catalogue, on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from reconciler.sim.kubeedge.registry import ImageCatalogue, default_catalogue
from reconciler.sim.oci.server import SimRegistry


@pytest.fixture
def catalogue() -> ImageCatalogue:
    return default_catalogue()


@pytest.fixture
def registry(catalogue: ImageCatalogue) -> Iterator[SimRegistry]:
    with SimRegistry(catalogue) as served:
        yield served
