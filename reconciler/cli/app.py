"""The Typer application every `edgefleet` command registers on."""

import typer

from reconciler import __version__

app = typer.Typer(
    name="edgefleet",
    help=(
        "GitOps reconciler for KubeEdge edge fleets: keeps every edge node's image cache "
        "converged with what is committed in git, through ImagePrePullJobs."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"edgefleet {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: bool = typer.Option(
        False, "--version", help="Print the version and exit.", callback=_print_version, is_eager=True
    ),
) -> None:
    """GitOps reconciler for KubeEdge edge fleets.

    Commit per node group the images every edge node must hold; edgefleet plans and runs
    KubeEdge ImagePrePullJobs until every cache holds what is committed.
    """
