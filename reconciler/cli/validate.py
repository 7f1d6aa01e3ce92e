"""`edgefleet validate`: check a fleet repository (working tree or a git revision), offline.

Exit codes: 0 valid (warnings allowed), 1 invalid or unreadable, or a fleet that desires no
image without `allowEmpty: true` (`plan` and `sync` refuse it, so a CI gate on `validate` must
too). Errors and warnings go to stderr, one per line as `path:line:col: message`; the one-line
summary goes to stdout.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Annotated

import typer

from reconciler.cli.app import app
from reconciler.cli.messages import fail, print_diagnostics
from reconciler.cli.registry_check import RegistryCheck, check_registry
from reconciler.manifests import Diagnostic, LoadResult, load_fleet
from reconciler.manifests.fleet import Fleet
from reconciler.manifests.loader import EMPTY_FLEET_WARNING
from reconciler.source import FleetFiles, Repository, SourceError, read_worktree

EXIT_VALID, EXIT_INVALID = 0, 1
#: The planner's refusal of an empty desired state, word for word (reconciler/planner).
EMPTY_REFUSAL = ("the revision desires no image; refusing to plan an empty desired state "
                 "(set allowEmpty: true in FleetConfig to allow it)")


def summary(fleet: Fleet, revision: str | None) -> str:
    """The one-line summary of a valid fleet: counts, and images per group."""
    per_group = ", ".join(f"{g.name} {len(g.images)}" for g in fleet.groups)
    at = f" at {revision[:12]}" if revision else ""
    return (
        f"valid{at}: {len(fleet.groups)} groups, {len(fleet.image_sets)} image sets, "
        f"{len(fleet.distinct_images)} distinct images"
        + (f" (images per group: {per_group})" if per_group else "")
    )


def _read(location: str, rev: str | None, path: str | None) -> FleetFiles:
    if rev is None:
        return read_worktree(Path(location), path)
    return Repository.open(location).read_fleet(rev, path)


def _shown_from(prefix: str, diagnostics: tuple[Diagnostic, ...]) -> list[Diagnostic]:
    """Diagnostics with paths relative to the current directory (worktree mode), so that an
    editor or terminal can open `fleet-examples/groups/shops.yaml:12:5` directly."""
    if prefix in ("", "."):
        return list(diagnostics)
    return [
        Diagnostic(str(PurePosixPath(prefix, d.path)), d.line, d.col, d.message, d.severity)
        for d in diagnostics
    ]


def refuse_empty(result: LoadResult, location: str) -> LoadResult:
    """`result` with an empty fleet (no image desired, allowEmpty false) turned into an error
    with the planner's words, at the place the loader's warning names (FleetConfig's
    `allowEmpty`, else the first group or file; `location` when there is no file at all)."""
    fleet = result.fleet
    if fleet is None or fleet.distinct_images or fleet.allow_empty:
        return result
    warning = next((w for w in result.warnings if w.message == EMPTY_FLEET_WARNING), None)
    where = (warning.path, warning.line, warning.col) if warning else (".", 1, 1)
    path = location if where[0] == "." else where[0]
    error = Diagnostic(path, where[1], where[2], EMPTY_REFUSAL, "error")
    return LoadResult(fleet=None, errors=(*result.errors, error),
                      warnings=tuple(w for w in result.warnings if w is not warning), notices=result.notices)


def report(result: LoadResult, revision: str | None, prefix: str) -> int:
    """Print a LoadResult the way `validate` does; returns the exit code."""
    print_diagnostics(_shown_from(prefix, result.notices), "notice")
    print_diagnostics(_shown_from(prefix, result.warnings), "warning")
    if result.fleet is None:
        print_diagnostics(_shown_from(prefix, result.errors), "error")
        count = len(result.errors)
        typer.echo(f"invalid: {count} error{'s' if count != 1 else ''}", err=True)
        return EXIT_INVALID
    typer.echo(summary(result.fleet, revision))
    return EXIT_VALID


_HELP = (
    "Check every fleet manifest under PATH and report all problems at once.\n\n"
    "Reads the working tree (uncommitted changes included), or with --rev a commit of the git "
    "repository at PATH without checking it out.\n\n"
    "Exit 0 when valid (warnings allowed), 1 when invalid or unreadable, or when the fleet "
    "desires no image and FleetConfig does not set allowEmpty: true (plan and sync refuse such "
    "a revision); each problem is one `path:line:col: message` line on stderr.\n\n"
    "With --registry, also asks each image's registry whether the tag or digest exists (exit 1 "
    "when one does not; a registry that does not answer is a warning unless --strict)."
)


@app.command(help=_HELP)
def validate(
    location: Annotated[
        str, typer.Argument(metavar="[PATH]", help="Fleet repository directory (default: current directory).")
    ] = ".",
    rev: Annotated[
        str | None,
        typer.Option("--rev", help="Validate this git revision of the repository at PATH, not its files."),
    ] = None,
    path: Annotated[
        str | None, typer.Option("--path", help="Fleet directory inside the repository (default: its root).")
    ] = None,
    registry: Annotated[
        bool, typer.Option("--registry", help="Check every image against its registry (network access).")
    ] = False,
    strict: Annotated[
        bool, typer.Option("--strict", help="With --registry: a registry that cannot be asked is an error.")
    ] = False,
    insecure_registry: Annotated[
        list[str] | None,
        typer.Option(
            "--insecure-registry",
            metavar="HOST[:PORT]",
            help="Speak plain HTTP to this registry (repeatable; adds to spec.registries.insecure).",
        ),
    ] = None,
    docker_config: Annotated[
        Path | None,
        typer.Option("--docker-config", metavar="FILE", help="Registry credentials: a docker config.json."),
    ] = None,
    registry_ca: Annotated[
        Path | None,
        typer.Option("--registry-ca", metavar="FILE", help="Extra CA bundle (PEM) for registry TLS."),
    ] = None,
    registry_timeout: Annotated[
        float, typer.Option("--registry-timeout", metavar="SECONDS", help="Per-request registry timeout.")
    ] = 10.0,
) -> None:
    """`edgefleet validate`: load the fleet files, print the result, exit 0 (valid) or 1."""
    try:
        fleet_files = _read(location, rev, path)
    except SourceError as err:
        fail(str(err))
    result = refuse_empty(load_fleet(fleet_files.files), "." if rev is None else location)
    prefix = location if rev is None else ""
    code = report(result, fleet_files.revision, prefix)
    if code == EXIT_VALID and registry and result.fleet is not None:
        check = RegistryCheck(
            tuple(insecure_registry or ()), docker_config, registry_ca, registry_timeout, strict
        )
        code, found = check_registry(result.fleet, fleet_files.files, check)
        shown = _shown_from(prefix, tuple(found))
        print_diagnostics([d for d in shown if d.severity == "warning"], "warning")
        print_diagnostics([d for d in shown if d.severity == "error"], "error")
    raise typer.Exit(code)
