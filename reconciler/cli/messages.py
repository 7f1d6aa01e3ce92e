"""How commands speak to people on stderr: one line per error, never a traceback."""

from __future__ import annotations

from collections.abc import Iterable
from typing import NoReturn

import typer

EXIT_ERROR = 1


def fail(message: str, code: int = EXIT_ERROR) -> NoReturn:
    """Print `error: <message>` (one line) on stderr and exit with `code`."""
    typer.echo(f"error: {' '.join(message.split())}", err=True)
    raise typer.Exit(code)


def print_diagnostics(diagnostics: Iterable[object], severity: str) -> None:
    """Print each manifest diagnostic (`path:line:col: message`) on stderr, prefixed by its
    severity unless it already reads as an error location."""
    for diagnostic in diagnostics:
        typer.echo(f"{diagnostic}" if severity == "error" else f"{severity}: {diagnostic}", err=True)
