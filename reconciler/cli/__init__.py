"""The `edgefleet` command line: a thin shell that wires adapters to the pure core.

Each command lives in its own module and registers itself on `app` when imported.
"""

from reconciler.cli.app import app


def main() -> None:
    """Console-script entry point."""
    app()


__all__ = ["app", "main"]
