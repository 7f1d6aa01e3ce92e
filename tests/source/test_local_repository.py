"""A local repository (bare or work tree): resolve, read at a revision, history, errors."""

from pathlib import Path

import pygit2
import pytest

from reconciler.source import CommitInfo, Repository, SourceError
from tests.source.conftest import BASE_SET, GROUPS_V1, GROUPS_V3, History


@pytest.mark.parametrize(
    ("rev", "expected"),
    [
        pytest.param("main", "third", id="branch"),
        pytest.param("refs/heads/main", "third", id="full-ref"),
        pytest.param("HEAD", "third", id="head"),
        pytest.param("HEAD~1", "second", id="head-parent"),
        pytest.param("main~2", "first", id="branch-ancestor"),
        pytest.param("v1", "first", id="tag"),
        pytest.param("short:second", "second", id="short-sha"),
        pytest.param("full:first", "first", id="full-sha"),
    ],
)
def test_resolve(history: History, rev: str, expected: str) -> None:
    if rev.startswith(("short:", "full:")):
        kind, _, name = rev.partition(":")
        sha = getattr(history, name)
        rev = sha[:8] if kind == "short" else sha
    repo = Repository.open(str(history.repo.path))
    assert repo.resolve(rev) == getattr(history, expected)
    assert not repo.is_remote


def test_read_fleet_at_an_older_revision_skips_hidden_and_other_files(history: History) -> None:
    fleet = Repository.open(str(history.repo.path)).read_fleet("v1")
    assert fleet.revision == history.first
    assert fleet.files == {"fleet/groups.yaml": GROUPS_V1}


def test_read_fleet_narrowed_to_a_path_is_sorted(history: History) -> None:
    fleet = Repository.open(str(history.repo.path)).read_fleet("main", "fleet")
    assert list(fleet.files.items()) == [("fleet/groups.yaml", GROUPS_V3), ("fleet/sets/base.yml", BASE_SET)]
    single = Repository.open(str(history.repo.path)).read_fleet("main", "fleet/sets/base.yml")
    assert single.files == {"fleet/sets/base.yml": BASE_SET}


def test_commits_between_newest_first(history: History) -> None:
    commits = Repository.open(str(history.repo.path)).commits_between("v1", "main")
    assert [c.sha for c in commits] == [history.third, history.second]
    assert commits[1] == CommitInfo(
        sha=history.second, summary="Add the base image set", author="Fleet Tester", time=1_700_000_120
    )
    assert Repository.open(str(history.repo.path)).commits_between("main", "v1") == []


def test_work_tree_resolves_local_and_remote_tracking_branches(history: History, tmp_path: Path) -> None:
    checkout = tmp_path / "checkout"
    pygit2.clone_repository(str(history.repo.path), str(checkout))
    repo = Repository.open(str(checkout))
    assert repo.resolve("main") == repo.resolve("origin/main") == history.third
    assert repo.read_fleet("origin/feature").files["extra.yaml"] == b"a: 1\n"
    assert repo.location == str(checkout)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        pytest.param(lambda r: r.resolve("nope"), "unknown revision 'nope' in {loc}", id="unknown-revision"),
        pytest.param(lambda r: r.resolve(""), "unknown revision '' in {loc}", id="empty-revision"),
        pytest.param(lambda r: r.resolve("main~9"), "unknown revision 'main~9' in {loc}", id="past-the-root"),
        pytest.param(
            lambda r: r.read_fleet("v1", "fleet/sets"),
            "fleet path 'fleet/sets' not found at v1 ({first12}) in {loc}",
            id="path-not-in-tree",
        ),
        pytest.param(
            lambda r: r.commits_between("nope", "main"),
            "unknown revision 'nope' in {loc}",
            id="history-unknown",
        ),
    ],
)
def test_errors_are_one_line(history: History, call: object, message: str) -> None:
    repo = Repository.open(str(history.repo.path))
    with pytest.raises(SourceError) as caught:
        call(repo)  # type: ignore[operator]
    assert str(caught.value) == message.format(loc=history.repo.path, first12=history.first[:12])


def test_tree_sha_is_not_a_commit(history: History) -> None:
    repo = Repository.open(str(history.repo.path))
    with pytest.raises(SourceError, match=r"^revision 'main\^\{tree\}' in .* is not a commit"):
        repo.resolve("main^{tree}")


def test_not_a_repository(tmp_path: Path) -> None:
    with pytest.raises(SourceError) as caught:
        Repository.open(str(tmp_path))
    assert str(caught.value) == f"not a git repository: {tmp_path}"


def test_fetch_is_a_no_op_for_a_local_path(history: History) -> None:
    repo = Repository.open(str(history.repo.path))
    repo.fetch()
    assert repo.resolve("main") == history.third
