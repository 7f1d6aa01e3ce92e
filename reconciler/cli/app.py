"""The Typer application every `edgefleet` command registers on."""

import typer

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
