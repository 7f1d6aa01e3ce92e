"""The `edgefleet` command line: a thin shell that wires adapters to the pure core.

Each command lives in its own module and registers itself on `app` when imported.
"""

from reconciler.cli import agent, demo, drift, plan, review, rollout, run, sim, snapshot, sync, validate
from reconciler.cli.app import app

#: Importing a command module registers its command on `app`.
COMMAND_MODULES = (validate, plan, sync, run, agent, demo, sim, rollout, snapshot, review, drift)


def main() -> None:
    """Console-script entry point."""
    app()


__all__ = ["app", "main"]
