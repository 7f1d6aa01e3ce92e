"""`edgefleet review`: the rollout a pull request would cause, as one comment on it.

Plans the base and the head revision of a fleet repository against the same cluster facts (a
snapshot from `edgefleet snapshot`, or a live cluster), renders the difference
(report/review_markdown.py), and prints it (`--dry-run`, or no forge given) or posts it as the
pull request's one edgefleet comment, edited in place on every push (forge/comments.py).

Exit codes: 0 the change does not alter the rollout, 2 it does (groups' images or nodes, or
jobs to create/delete), 1 error (the head revision does not load or plan, a `--fail-on`
finding, the forge refused). With `--status` the head commit gets the status `edgefleet/plan`
(report/review_checks.py): failure exactly when the exit code is 1 for the review itself.
"""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from reconciler.cli.app import app
from reconciler.cli.fleet_source import FleetSource, open_fleet_source
from reconciler.cli.messages import fail
from reconciler.cli.plan import ContextOption, KubeconfigOption, PathOption
from reconciler.cli.registry_options import (
    DockerConfigOption,
    InsecureOption,
    RegistryCaOption,
    RegistryOption,
    open_registry,
    with_live_pull_secrets,
)
from reconciler.cli.snapshot import MaxAgeOption, SnapshotOption, observe_live, parse_max_age, read_snapshot
from reconciler.cycle import utc_now
from reconciler.forge import (
    CommentTarget,
    ForgeError,
    parse_github_target,
    parse_gitlab_target,
    post_sticky_comment,
)
from reconciler.kube.errors import KubeError
from reconciler.kubeedge import JobSpecError
from reconciler.manifests import load_fleet
from reconciler.manifests.fleet import Fleet
from reconciler.observed import ClusterFacts
from reconciler.planner import EmptyDesiredState, PlannerSettings, plan_revision
from reconciler.registry.lookup import FleetRegistry
from reconciler.report.review_checks import FAIL_ON_KINDS, check_failures
from reconciler.report.review_markdown import REVIEW_MARKER, ReviewInput, render_review, review_has_changes
from reconciler.source import SourceError

EXIT_NO_CHANGES, EXIT_ERROR, EXIT_CHANGES = 0, 1, 2
_DEFAULT_API = {"github": "https://api.github.com", "gitlab": "https://gitlab.com/api/v4"}
_API_ENV = {"github": "GITHUB_API_URL", "gitlab": "CI_API_V4_URL"}


@app.command("review", help=(
    "Show what merging a change does to the rollout, as a pull-request comment.\n\n"
    "Plans --base and --head of --repo against the same cluster facts (--snapshot FILE from "
    "`edgefleet snapshot`, or --kubeconfig), then prints the Markdown comment or, with "
    "--github OWNER/REPO#N (token from $GITHUB_TOKEN) or --gitlab PROJECT!IID (token from "
    "$GITLAB_TOKEN or $CI_JOB_TOKEN), posts it as the one edgefleet comment of the pull "
    "request, edited in place on every push. Without a token (a pull request from a fork) it "
    "prints the comment and says so.\n\n"
    "With --registry each revision's images are asked of their registries first (as `plan "
    "--registry`): the comment flags images not in their registry (a typo in a tag) and images "
    "without a node's platform, and shows the bytes to transfer per group and site.\n\n"
    "With --status the head commit gets the status `edgefleet/plan` (make it a required check): "
    "failure when the head cannot be planned or on a --fail-on finding.\n\n"
    "Exit codes: 0 the change does not alter the rollout, 2 it does, 1 error or a --fail-on "
    "finding (a pull request from a fork without a token: 0 unless that)."
))
def review_command(
    base: Annotated[str, typer.Option("--base", help="Revision the change starts from (e.g. origin/main).")],
    head: Annotated[str, typer.Option("--head", help="Revision of the change (default HEAD).")] = "HEAD",
    repo: Annotated[str, typer.Option("--repo", help="Fleet repository: a git directory or URL.")] = ".",
    path: PathOption = None,
    snapshot: SnapshotOption = None,
    max_age: MaxAgeOption = "24h",
    kubeconfig: KubeconfigOption = None,
    context: ContextOption = None,
    github: Annotated[str | None, typer.Option(
        "--github", help="Post on this pull request: OWNER/REPO#NUMBER (token: $GITHUB_TOKEN).")] = None,
    gitlab: Annotated[str | None, typer.Option(
        "--gitlab",
        help="Post on this merge request: PROJECT!IID (token: $GITLAB_TOKEN or $CI_JOB_TOKEN).")] = None,
    api_url: Annotated[str | None, typer.Option(
        "--api-url",
        help="Forge API base URL (default: $GITHUB_API_URL / $CI_API_V4_URL, else the public one).")] = None,
    status: Annotated[bool, typer.Option(
        "--status", help=("Also set the head commit's status `edgefleet/plan` "
                          "(failure on errors and --fail-on findings)."))] = False,
    fail_on: Annotated[list[str] | None, typer.Option(
        "--fail-on", metavar="KIND",
        help="Also fail the status (and exit 1) on these findings, repeatable or comma-separated: "
             + "; ".join(f"{k} ({v})" for k, v in FAIL_ON_KINDS.items())
             + ". Errors always fail it.")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the comment; post nothing.")] = False,
    registry: RegistryOption = False,
    insecure_registry: InsecureOption = None,
    docker_config: DockerConfigOption = None,
    registry_ca: RegistryCaOption = None,
) -> None:
    if snapshot is not None and (kubeconfig is not None or context is not None):
        fail("use either --snapshot or a cluster (--kubeconfig/--context), not both")
    if github is not None and gitlab is not None:
        fail("use either --github or --gitlab, not both")
    kinds = {k.strip() for value in fail_on or () for k in value.split(",") if k.strip()}
    unknown = sorted(kinds - set(FAIL_ON_KINDS))
    if unknown:
        fail(f"--fail-on {unknown[0]!r}: expected one of {', '.join(FAIL_ON_KINDS)}")
    target = _target(github, gitlab, api_url) if not dry_run else None
    lookup = open_registry(registry, insecure_registry, docker_config, registry_ca)
    if snapshot is None:  # live: the groups' pull secrets authenticate
        with_live_pull_secrets(lookup, kubeconfig, context)
    now = utc_now()
    try:
        source = open_fleet_source(repo, path)
        if source.repository is None:
            fail(f"--repo {repo}: review compares two revisions and needs a git repository")
        facts = (read_snapshot(snapshot, now=now, max_age=parse_max_age(max_age)) if snapshot is not None
                 else observe_live(kubeconfig, context))
        review = _review(source, base, head, facts, now=now, notes=_notes(snapshot), lookup=lookup)
    except (SourceError, KubeError) as error:
        fail(str(error))
    except JobSpecError as error:
        fail(f"cannot build the planned jobs: {error}")
    finally:
        if lookup is not None:
            lookup.close()
    comment = render_review(review)
    failures = check_failures(review, kinds)
    code = EXIT_ERROR if failures else EXIT_CHANGES if review_has_changes(review) else EXIT_NO_CHANGES
    for reason in failures:  # also in the comment (errors, warnings); here for the CI log
        typer.echo(f"error: {' '.join(reason.split())}", err=True)
    if target is None:
        typer.echo(comment)
        forked = not dry_run and (github is not None or gitlab is not None)
        raise typer.Exit(EXIT_NO_CHANGES if forked and not failures else code)
    state = "failure" if failures else "success"
    try:
        result = post_sticky_comment(target, comment, REVIEW_MARKER, status=(
            (review.head_revision or "", state, _status_line(review, failures)) if status else None))
    except ForgeError as error:
        fail(str(error))
    typer.echo(f"review: {result.action} comment {result.comment_id} on {target.forge} "
               f"{target.project} {'#' if target.forge == 'github' else '!'}{target.number}"
               + (f" ({result.url})" if result.url else ""), err=True)
    raise typer.Exit(code)


def _target(github: str | None, gitlab: str | None, api_url: str | None) -> CommentTarget | None:
    """The forge to post on, or None (print instead): none given, or no token in the
    environment (a pull request from a fork gets no write token)."""
    if github is None and gitlab is None:
        return None
    try:
        forge, (project, number) = (("github", parse_github_target(github)) if github is not None
                                    else ("gitlab", parse_gitlab_target(gitlab or "")))
    except ValueError as error:
        fail(str(error))
    if forge == "github":
        token, kind, names = os.environ.get("GITHUB_TOKEN"), "bearer", "$GITHUB_TOKEN"
    else:
        token, kind = os.environ.get("GITLAB_TOKEN"), "private"
        if not token:
            token, kind = os.environ.get("CI_JOB_TOKEN"), "job"
        names = "$GITLAB_TOKEN or $CI_JOB_TOKEN"
    if not token:
        typer.echo(f"notice: no {names} (a pull request from a fork has no write token): "
                   "printing the comment instead of posting it", err=True)
        return None
    url = api_url or os.environ.get(_API_ENV[forge]) or _DEFAULT_API[forge]
    return CommentTarget(forge, project, number, url, token, kind)  # type: ignore[arg-type]


def _review(source: FleetSource, base: str, head: str, facts: ClusterFacts, *, now: datetime,
            notes: list[str], lookup: FleetRegistry | None = None) -> ReviewInput:
    """Plan both revisions over `facts`. A head that does not load or plan is reported in the
    comment (the reviewer must see it), not only on stderr. With `lookup` (`--registry`), each
    revision is planned with its own images' registry facts (one client: shared images are
    asked once)."""
    base_files, head_files = source.read(base), source.read(head)
    settings = PlannerSettings()
    base_fleet, base_errors = _fleet(base_files.files)
    head_fleet, errors = _fleet(head_files.files)
    base_plan = head_plan = None
    if base_fleet is not None:
        try:
            base_plan = plan_revision(base_fleet, _with_registry(facts, base_fleet, lookup),
                                      now=now, revision=base_files.revision, settings=settings).to_dict()
        except EmptyDesiredState:
            base_plan = None
    elif base_errors:
        notes = [*notes, f"the base revision does not load ({base_errors[0]})"]
    if head_fleet is not None:
        try:
            head_plan = plan_revision(head_fleet, _with_registry(facts, head_fleet, lookup), now=now,
                                      revision=head_files.revision, settings=settings, base=base_fleet,
                                      base_revision=base_files.revision).to_dict()
        except EmptyDesiredState as error:
            errors = [*errors, f"the head revision desires nothing: {error}"]
    return ReviewInput(base_revision=base_files.revision, head_revision=head_files.revision,
                       base_plan=base_plan, head_plan=head_plan, errors=errors, notes=notes,
                       fleet_path=source.path)


def _with_registry(facts: ClusterFacts, fleet: Fleet, lookup: FleetRegistry | None) -> ClusterFacts:
    """`facts` with the registry's answers for `fleet`'s images (docs/registry.md), or as is."""
    return facts if lookup is None else replace(facts, registry=lookup(fleet))


def _fleet(files: dict[str, bytes]) -> tuple[Fleet | None, list[str]]:
    loaded = load_fleet(files)
    if loaded.errors or loaded.fleet is None:
        return None, [str(e) for e in loaded.errors] or ["the fleet does not load"]
    return loaded.fleet, []


def _notes(snapshot: Path | None) -> list[str]:
    if snapshot is None:
        return ["cluster read live"]
    return [f"cluster facts from the snapshot {snapshot.name}"]


def _status_line(review: ReviewInput, failures: list[str]) -> str:
    if review.errors or review.head_plan is None:
        return "the head revision cannot be planned"
    if failures:
        return f"{failures[0]}" + (f" (and {len(failures) - 1} more)" if len(failures) > 1 else "")
    summary = (review.head_plan or {}).get("summary") or {}
    create = int(summary.get("jobsCreate") or 0)
    return f"{create} job{'' if create == 1 else 's'} to create, {summary.get('jobsDelete', 0)} to delete"
