"""The fleet repository format: models, YAML loading with file:line errors, image references.

Pure: no I/O. `load_fleet` takes file contents and returns a LoadResult.
"""

from reconciler.manifests.diagnostics import Diagnostic, LoadResult
from reconciler.manifests.loader import load_fleet

__all__ = ["Diagnostic", "LoadResult", "load_fleet"]
