"""The daemon's fleet loader: `manifests.load_fleet`, remembered by content, so a cycle of an
unchanged revision does not parse and validate the same YAML again (at idle, that parse was
most of a cycle's cost once the watch caches made observing free)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from reconciler.manifests import load_fleet
from reconciler.manifests.diagnostics import LoadResult


class FleetMemo:
    """Callable like `load_fleet`; keeps the results of the last `keep` distinct contents
    (a LoadResult is immutable, so sharing it between cycles is safe)."""

    def __init__(self, keep: int = 2) -> None:
        self._keep = keep
        self._results: dict[str, LoadResult] = {}
        self.loads = 0  # real loads (for tests)

    def __call__(self, files: Mapping[str, bytes]) -> LoadResult:
        key = _digest(files)
        if (hit := self._results.pop(key, None)) is None:
            hit = load_fleet(files)
            self.loads += 1
        self._results[key] = hit  # most recent last
        while len(self._results) > self._keep:
            del self._results[next(iter(self._results))]
        return hit


def _digest(files: Mapping[str, bytes]) -> str:
    digest = hashlib.sha256()
    for path in sorted(files):
        content = files[path]
        digest.update(f"{path}\0{len(content)}\0".encode())
        digest.update(content)
    return digest.hexdigest()
