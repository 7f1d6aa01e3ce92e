"""`edgefleet review` end to end, as CI runs it: the fleet repository served by `git daemon`
(base on main, the pull request on a branch), cluster facts from a file `edgefleet snapshot`
wrote from the embedded cluster, and the comment posted to the forge stand-in over HTTP.

What is asserted is what a reviewer sees: one comment after several pushes, carrying the plan
of the newest head (images added and removed, nodes reached, jobs), the commit status
`edgefleet/plan`, and the exit code; a broken head is an error naming file and line, and
nothing posted claims success.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from reconciler.cli import app
from reconciler.kube.crds import install_crds, read_crds
from reconciler.kube.session import Session
from reconciler.report.review_markdown import REVIEW_MARKER
from reconciler.sim.clock import ManualClock
from reconciler.sim.cluster import EmbeddedCluster
from tests.e2e.conftest import AGENT_V1, AGENT_V2, MOSQUITTO, fleet_files, group_file, quiet_fleet
from tests.fleetrepo import FleetRepo
from tests.forge.standin import HUMAN_COMMENT, Forge, serve_forge
from tests.gitserve import serve_git_daemon

NODES = 7  # edge nodes of NodeGroup line-a
NGINX = "docker.io/library/nginx:1.27"
TOKEN = "ghs_review-token-never-shown"


@dataclass(frozen=True)
class Fleet:
    """The snapshot file and the names of the edge nodes it holds."""

    snapshot: Path
    edges: tuple[str, ...]


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    """One snapshot for the module, taken with `edgefleet snapshot` from the embedded cluster
    (what the daemon or a scheduled CI job publishes), so review needs no cluster at all."""
    where = tmp_path_factory.mktemp("cluster")
    with EmbeddedCluster(nodes=NODES, kubeedge="1.21", clock=ManualClock(), seed=2,
                         fleet=quiet_fleet(NODES)) as cluster:
        kubeconfig = cluster.write_kubeconfig(where / "kubeconfig")
        session = Session.from_kubeconfig(kubeconfig)
        try:
            install_crds(session, read_crds())
        finally:
            session.close()
        out = where / "fleet-snapshot.json.gz"
        taken = CliRunner().invoke(app, ["snapshot", "--kubeconfig", str(kubeconfig), "--out", str(out)])
        assert taken.exit_code == 0, taken.output
        yield Fleet(out, tuple(cluster.edge_names()))


@dataclass
class PullRequest:
    """A fleet repository served by `git daemon`: main holds the base, `change` the PR."""

    repo: FleetRepo
    url: str
    base: str

    def push(self, files: dict[str, bytes], message: str) -> str:
        return self.repo.commit(files, message, branch="change")


@pytest.fixture
def pull_request(tmp_path: Path) -> Iterator[PullRequest]:
    repo = FleetRepo(tmp_path / "served" / "fleet.git")
    base = repo.commit(fleet_files(MOSQUITTO, AGENT_V1), "Line A: mosquitto and the line agent")
    with serve_git_daemon(tmp_path / "served") as url:
        yield PullRequest(repo, f"{url}/fleet.git", base)


@pytest.fixture
def forge() -> Iterator[tuple[Forge, str]]:
    with serve_forge() as served:
        yield served


def review(fleet: Fleet, pr: PullRequest, tmp_path: Path, *args: str,
           env: dict[str, str | None] | None = None) -> Result:
    """`edgefleet review` as the CI template runs it (base main, head the PR branch)."""
    environment: dict[str, str | None] = {"XDG_CACHE_HOME": str(tmp_path / "cache"),
                                          "GITHUB_TOKEN": None, "GITLAB_TOKEN": None,
                                          "CI_JOB_TOKEN": None, "GITHUB_API_URL": None,
                                          "CI_API_V4_URL": None}
    environment.update(env or {})
    return CliRunner().invoke(app, ["review", "--repo", pr.url, "--base", "main", "--head", "change",
                                    "--snapshot", str(fleet.snapshot), *args], env=environment)


def ours(forge: Forge) -> list[str]:
    return [c["body"] for c in forge.comments if REVIEW_MARKER in c["body"]]


def table_row(comment: str, group: str) -> list[str]:
    """The group's row in "Rollout per group" (the first table of the comment)."""
    row = next(line for line in comment.splitlines() if line.startswith(f"| `{group}`"))
    return [cell.strip() for cell in row.strip("|").split("|")]


def test_two_pushes_leave_one_comment_with_the_plan_of_the_newest_head(
        fleet: Fleet, pull_request: PullRequest, forge: tuple[Forge, str], tmp_path: Path) -> None:
    state, url = forge
    github = ("--github", "acme/fleet#42", "--api-url", url, "--status")
    first_head = pull_request.push(fleet_files(MOSQUITTO, AGENT_V2), "Bump the line agent")
    first = review(fleet, pull_request, tmp_path, *github, env={"GITHUB_TOKEN": TOKEN})
    assert first.exit_code == 2, first.output  # the change alters the rollout
    assert re.fullmatch(r"review: created comment \d+ on github acme/fleet #42\n", first.stderr)
    (comment,) = ours(state)
    assert "### edgefleet review: this change alters the rollout" in comment
    assert f"Base `{pull_request.base}` → head `{first_head}`" in comment
    # The agent is swapped on every node of line-a: one image added, one removed, all nodes.
    assert (f"**+1 image in 1 group reaching {NODES} node(s) now; 1 job to create, 0 to delete; "
            "0 nodes deferred; −1 image removed.**") in comment
    # Nothing is pulled yet (the base's job is planned too): 1 job, 7 pairs become missing.
    assert table_row(comment, "line") == ["`line`", "+1 / −1", str(NODES), "1", "0", str(NODES), "0"]
    assert f"- `line`: adds `{AGENT_V2}`; removes `{AGENT_V1}`; its jobs reach {NODES} nodes" in comment
    assert all(name in comment for name in sorted(fleet.edges)[:3])

    second_head = pull_request.push(fleet_files(MOSQUITTO, AGENT_V2, NGINX), "Line A also serves nginx")
    second = review(fleet, pull_request, tmp_path, *github, env={"GITHUB_TOKEN": TOKEN})
    assert second.exit_code == 2, second.output
    assert second.stderr.startswith("review: updated comment ")
    (comment,) = ours(state)  # still exactly one edgefleet comment, now for the newest head
    assert state.comments[0]["body"] == HUMAN_COMMENT and len(state.comments) == 2
    assert f"→ head `{second_head}`" in comment and first_head not in comment
    assert f"adds `{NGINX}`, `{AGENT_V2}`; removes `{AGENT_V1}`" in comment
    assert f"**+2 images in 1 group reaching {NODES} node(s) now; 1 job to create, 0 to delete;" in comment

    comment_path = "/repos/acme/fleet/issues/42/comments"
    comment_id = comment_path.rsplit("/", 2)[0] + f"/comments/{state.comments[1]['id']}"
    assert state.writes() == [("POST", comment_path), ("POST", f"/repos/acme/fleet/statuses/{first_head}"),
                              ("PATCH", comment_id), ("POST", f"/repos/acme/fleet/statuses/{second_head}")]
    assert [(s["sha"], s["state"], s["context"]) for s in state.statuses] == [
        (first_head, "success", "edgefleet/plan"), (second_head, "success", "edgefleet/plan")]
    assert state.statuses[1]["description"] == "1 job to create, 0 to delete"
    assert all(h["Authorization"] == f"Bearer {TOKEN}" for _, _, h, _ in state.requests)
    assert TOKEN not in first.output + second.output


def test_a_change_that_leaves_the_rollout_alone_exits_0(
        fleet: Fleet, pull_request: PullRequest, forge: tuple[Forge, str], tmp_path: Path) -> None:
    state, url = forge
    files = fleet_files(MOSQUITTO, AGENT_V1)
    files["groups/line.yaml"] = b"# Owned by the line team.\n" + files["groups/line.yaml"]
    pull_request.push(files, "Say who owns line A")
    run = review(fleet, pull_request, tmp_path, "--github", "acme/fleet#3", "--api-url", url, "--status",
                 env={"GITHUB_TOKEN": TOKEN})
    assert run.exit_code == 0, run.output
    (comment,) = ours(state)
    assert "### edgefleet review: no change to the rollout" in comment
    assert "No group's images, nodes or jobs change." in comment
    assert [s["state"] for s in state.statuses] == ["success"]


def test_a_broken_head_is_an_error_with_file_and_line_and_nothing_claims_success(
        fleet: Fleet, pull_request: PullRequest, forge: tuple[Forge, str], tmp_path: Path) -> None:
    state, url = forge
    files = fleet_files(MOSQUITTO, AGENT_V2)
    files["groups/line.yaml"] = files["groups/line.yaml"].replace(b"  images:", b"  imagez:")
    head = pull_request.push(files, "A typo in the group")
    run = review(fleet, pull_request, tmp_path, "--github", "acme/fleet#42", "--api-url", url, "--status",
                 env={"GITHUB_TOKEN": TOKEN})
    assert run.exit_code == 1, run.output
    error_lines = [line for line in run.stderr.splitlines() if line.startswith("error: ")]
    assert error_lines and re.match(r"error: groups/line\.yaml:6:\d+: ", error_lines[0]), run.stderr
    assert "imagez" in error_lines[0]
    (comment,) = ours(state)
    assert "### edgefleet review: the head revision cannot be planned" in comment
    assert re.search(r":x: \*\*error:\*\* groups/line\.yaml:6:\d+: ", comment)
    assert "alters the rollout" not in comment and "no change to the rollout" not in comment
    assert [(s["sha"], s["state"]) for s in state.statuses] == [(head, "failure")]


@pytest.mark.parametrize("token", [None, ""], ids=["unset", "empty"])  # the workflow passes ''
def test_a_pull_request_from_a_fork_prints_the_comment_and_posts_nothing(
        fleet: Fleet, pull_request: PullRequest, forge: tuple[Forge, str], tmp_path: Path,
        token: str | None) -> None:
    state, url = forge
    pull_request.push(fleet_files(MOSQUITTO, AGENT_V2), "Bump the line agent")
    run = review(fleet, pull_request, tmp_path, "--github", "acme/fleet#42", "--api-url", url, "--status",
                 env={"GITHUB_TOKEN": token})
    assert run.exit_code == 0, run.output
    assert run.stdout.startswith(REVIEW_MARKER) and AGENT_V2 in run.stdout
    assert "notice: no $GITHUB_TOKEN" in run.stderr
    assert state.requests == []


def test_gitlab_merge_request_note_and_status(
        fleet: Fleet, pull_request: PullRequest, forge: tuple[Forge, str], tmp_path: Path) -> None:
    state, url = forge
    head = pull_request.push(fleet_files(MOSQUITTO, AGENT_V2), "Bump the line agent")
    for _ in range(2):
        run = review(fleet, pull_request, tmp_path, "--gitlab", "edge/fleet!7", "--status",
                     env={"CI_JOB_TOKEN": TOKEN, "CI_API_V4_URL": url})
        assert run.exit_code == 2, run.output
    notes = "/projects/edge%2Ffleet/merge_requests/7/notes"
    assert state.writes() == [("POST", notes), ("POST", f"/projects/edge%2Ffleet/statuses/{head}"),
                              ("PUT", f"{notes}/{state.comments[1]['id']}"),
                              ("POST", f"/projects/edge%2Ffleet/statuses/{head}")]
    assert len(ours(state)) == 1
    assert [(s["state"], s["name"]) for s in state.statuses] == [("success", "edgefleet/plan")] * 2
    assert all(h.get("JOB-TOKEN") == TOKEN for _, _, h, _ in state.requests)


def test_a_refusing_forge_is_one_line_and_exit_1(
        fleet: Fleet, pull_request: PullRequest, forge: tuple[Forge, str], tmp_path: Path) -> None:
    state, url = forge
    state.refuse = 403
    pull_request.push(fleet_files(MOSQUITTO, AGENT_V2), "Bump the line agent")
    run = review(fleet, pull_request, tmp_path, "--github", "acme/fleet#42", "--api-url", url,
                 env={"GITHUB_TOKEN": TOKEN})
    assert run.exit_code == 1
    assert run.stderr.count("\n") == 1 and run.stderr.startswith("error: github: GET ")
    assert "403" in run.stderr and "pull-requests: write" in run.stderr and TOKEN not in run.stderr


def test_fail_on_makes_the_required_check_fail_and_says_why(
        fleet: Fleet, pull_request: PullRequest, forge: tuple[Forge, str], tmp_path: Path) -> None:
    state, url = forge
    files = fleet_files(MOSQUITTO, AGENT_V2)
    files["groups/line-z.yaml"] = group_file(NGINX).replace(b"line-a", b"line-z").replace(
        b"name: line}", b"name: line-z}")
    head = pull_request.push(files, "Bump the agent; line Z (no node there yet) gets nginx")
    github = ("--github", "acme/fleet#42", "--api-url", url, "--status")
    allowed = review(fleet, pull_request, tmp_path, *github, env={"GITHUB_TOKEN": TOKEN})
    assert allowed.exit_code == 2, allowed.output  # a warning alone does not fail the check
    assert ":warning: group `line-z` now selects no node" in ours(state)[0]
    gated = review(fleet, pull_request, tmp_path, *github, "--fail-on", "empty-group,removals",
                   env={"GITHUB_TOKEN": TOKEN})
    assert gated.exit_code == 1, gated.output
    assert gated.stderr.splitlines()[:2] == [
        "error: --fail-on empty-group: group `line-z` now selects no node",
        f"error: --fail-on removals: group `line` removes {AGENT_V1}"]
    assert [(s["sha"], s["state"]) for s in state.statuses] == [(head, "success"), (head, "failure")]
    assert state.statuses[1]["description"] == (
        "--fail-on empty-group: group `line-z` now selects no node (and 1 more)")
    assert len(ours(state)) == 1  # the comment is still there for the reviewer, updated

    unknown = review(fleet, pull_request, tmp_path, *github, "--fail-on", "warning",
                     env={"GITHUB_TOKEN": TOKEN})
    assert unknown.exit_code == 1 and unknown.stderr.count("\n") == 1
    assert unknown.stderr.startswith("error: --fail-on 'warning': expected one of warnings, empty-group")
    assert len(state.statuses) == 2  # nothing posted for a mistyped option
