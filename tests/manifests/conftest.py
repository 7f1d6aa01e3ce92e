"""Shared fixtures for the manifest tests: the example repository and a YAML builder."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = REPO_ROOT / "fleet-examples"
HEADER = "apiVersion: edgefleet.io/v1alpha1\n"


def yaml(text: str) -> bytes:
    """Dedented YAML text as bytes (test sources are indented with the code)."""
    return textwrap.dedent(text).lstrip("\n").encode()


def read_tree(root: Path) -> dict[str, bytes]:
    """Every YAML file under `root`, keyed by posix path relative to it."""
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.suffix in (".yaml", ".yml")
    }


@pytest.fixture(scope="session")
def example_files() -> dict[str, bytes]:
    return read_tree(EXAMPLES)
