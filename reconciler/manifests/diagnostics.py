"""What the loader says about a repository: errors, warnings and notices, each at a place."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from reconciler.manifests.fleet import Fleet

Severity = Literal["error", "warning", "notice"]


@dataclass(frozen=True, slots=True, order=True)
class Diagnostic:
    """One finding at `path:line:col` (1-based). `str()` is `path:line:col: message`."""

    path: str
    line: int
    col: int
    message: str
    severity: Severity = "error"

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.col}: {self.message}"


@dataclass(frozen=True, slots=True)
class LoadResult:
    """The outcome of loading a fleet repository.

    `fleet` is None exactly when there is at least one error. Each tuple is sorted by place.
    """

    fleet: Fleet | None
    errors: tuple[Diagnostic, ...] = ()
    warnings: tuple[Diagnostic, ...] = ()
    notices: tuple[Diagnostic, ...] = ()

    @property
    def ok(self) -> bool:
        """True when the repository is valid (warnings and notices allowed)."""
        return not self.errors and self.fleet is not None
