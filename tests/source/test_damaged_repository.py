"""A damaged repository (objects missing or unreadable) gives one line naming the commit and the
object, from the source API and from the real command line, never a pygit2 traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pygit2
import pytest

from reconciler.source import Repository, SourceError
from tests.fleetrepo import FleetRepo
from tests.gitserve import serve_git_daemon

GROUP = (b"apiVersion: edgefleet.io/v1alpha1\nkind: NodeGroupImages\nmetadata: {name: line}\n"
         b"spec:\n  nodes: {nodeGroup: line-a}\n  images: [docker.io/library/nginx:1.27]\n")
FILES = {"groups/line.yaml": GROUP, "groups/sets/base.yaml": GROUP, "top.yaml": GROUP}


def loose_object(repo: FleetRepo, oid: pygit2.Oid | str) -> Path:
    text = str(oid)
    path = repo.path / "objects" / text[:2] / text[2:]
    assert path.is_file(), f"{text} is not a loose object of {repo.path}"
    return path


def damaged(tmp_path: Path, what: str) -> tuple[FleetRepo, str, str]:
    """A repository whose head commit lacks (or cannot inflate) one object; returns the repo,
    the head sha and the id of the damaged object."""
    repo = FleetRepo(tmp_path / "fleet.git")
    repo.commit(FILES, "A first good commit")
    head = repo.commit({**FILES, "top.yaml": GROUP + b"# v2\n"}, "Bump")
    commit = repo.repo[head]
    assert isinstance(commit, pygit2.Commit)
    target = {
        "tree": commit.tree_id,
        "subtree": commit.tree["groups"].id,
        "blob": commit.tree["top.yaml"].id,
        "garbled-tree": commit.tree_id,
    }[what]
    path = loose_object(repo, target)
    if what.startswith("garbled"):
        path.chmod(0o644)
        path.write_bytes(b"not zlib at all")
    else:
        path.unlink()
    return repo, head, str(target)


def edgefleet(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "reconciler", *args], capture_output=True, text=True,
                          timeout=60, check=False)


@pytest.mark.parametrize("what", ["tree", "subtree", "blob", "garbled-tree"])
def test_reading_a_damaged_commit_names_the_commit_and_the_object(tmp_path: Path, what: str) -> None:
    repo, head, target = damaged(tmp_path, what)
    with pytest.raises(SourceError) as caught:
        Repository.open(str(repo.path)).read_fleet("main")
    message = str(caught.value)
    assert f"commit {head[:12]} (main)" in message and target in message
    assert ("cannot read" if what.startswith("garbled") else "is missing") in message
    assert "\n" not in message


def test_a_missing_object_outside_the_fleet_path_does_not_matter(tmp_path: Path) -> None:
    repo, head, _ = damaged(tmp_path, "blob")  # top.yaml is outside groups/
    fleet = Repository.open(str(repo.path)).read_fleet("main", "groups")
    assert fleet.revision == head and sorted(fleet.files) == ["groups/line.yaml", "groups/sets/base.yaml"]


def test_a_missing_tree_on_the_fleet_path_is_not_reported_as_path_not_found(tmp_path: Path) -> None:
    repo, _, target = damaged(tmp_path, "subtree")
    with pytest.raises(SourceError, match=f"tree {target} \\(groups\\) is missing"):
        Repository.open(str(repo.path)).read_fleet("main", "groups/sets")


def test_a_branch_pointing_at_a_missing_commit_says_so(tmp_path: Path) -> None:
    repo = FleetRepo(tmp_path / "fleet.git")
    first = repo.commit(FILES, "One")
    head = repo.commit({"top.yaml": GROUP}, "Two")
    loose_object(repo, head).unlink()
    opened = Repository.open(str(repo.path))
    with pytest.raises(SourceError, match=f"'main' in .* points at commit {head}, which is missing"):
        opened.read_fleet("main")
    assert opened.resolve(first) == first  # what is intact still reads


def test_a_history_walk_over_a_missing_commit_says_so(tmp_path: Path) -> None:
    repo = FleetRepo(tmp_path / "fleet.git")
    first = repo.commit(FILES, "a")
    middle = repo.commit({"top.yaml": GROUP}, "b")
    repo.commit({"top.yaml": GROUP + b"#\n"}, "c")
    loose_object(repo, middle).unlink()
    with pytest.raises(SourceError, match=r"cannot walk the history from .* incomplete or damaged"):
        Repository.open(str(repo.path)).commits_between(first, "main")


@pytest.mark.parametrize("command", ["plan", "validate"])
def test_the_command_line_prints_one_line_and_exits_1(tmp_path: Path, command: str) -> None:
    repo, head, target = damaged(tmp_path, "tree")
    nodes = tmp_path / "nodes.json"
    nodes.write_text('{"apiVersion": "v1", "kind": "List", "items": []}')
    args = (["plan", "--repo", str(repo.path), "--nodes", str(nodes)] if command == "plan"
            else ["validate", str(repo.path), "--rev", "HEAD"])
    done = edgefleet(*args)
    assert done.returncode == 1, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "Traceback" not in done.stderr and "GitError" not in done.stderr
    assert f"commit {head[:12]} (HEAD)" in lines[0] and f"tree {target} is missing" in lines[0]


def test_sync_prints_one_line_and_exits_1(tmp_path: Path) -> None:
    repo, head, target = damaged(tmp_path, "tree")
    # The fleet is read before the cluster is contacted: no API server needs to answer.
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
        "clusters: [{name: c, cluster: {server: 'http://127.0.0.1:9'}}]\n"
        "users: [{name: u, user: {token: t}}]\n"
        "contexts: [{name: c, context: {cluster: c, user: u}}]\n")
    done = edgefleet("sync", "--repo", str(repo.path), "--kubeconfig", str(kubeconfig))
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr and "GitError" not in done.stderr
    assert f"commit {head[:12]} (HEAD)" in done.stderr and f"tree {target} is missing" in done.stderr


def test_a_damaged_served_repository_fails_the_fetch_with_one_line(tmp_path: Path) -> None:
    served = tmp_path / "served"
    repo = FleetRepo(served / "fleet.git")
    repo.commit(FILES, "One")
    head = repo.commit({**FILES, "top.yaml": GROUP + b"# v2\n"}, "Two")
    commit = repo.repo[head]
    assert isinstance(commit, pygit2.Commit)
    with serve_git_daemon(served) as url:
        loose_object(repo, commit.tree_id).unlink()  # git upload-pack cannot pack the head
        with pytest.raises(SourceError, match="cannot fetch") as caught:
            Repository.open(f"{url}/fleet.git", cache_dir=tmp_path / "cache")
    assert "\n" not in str(caught.value)


def test_a_damaged_clone_cache_fails_the_read_with_one_line(tmp_path: Path) -> None:
    served = tmp_path / "served"
    repo = FleetRepo(served / "fleet.git")
    head = repo.commit(FILES, "One")
    with serve_git_daemon(served) as url:
        Repository.open(f"{url}/fleet.git", cache_dir=tmp_path / "cache")  # clones into the cache
        # The cache holds the fetched objects in a pack: garble the pack itself.
        packs = list((tmp_path / "cache").glob("*/objects/pack/*.pack"))
        assert packs, "the clone cache keeps its objects in a pack"
        data = bytearray(packs[0].read_bytes())
        position = len(data) - 40  # inside the last object's compressed data, before the trailer
        data[position - 200:position] = bytes(200)
        packs[0].chmod(0o644)
        packs[0].write_bytes(bytes(data))
        fresh = Repository.open(f"{url}/fleet.git", cache_dir=tmp_path / "cache")
        with pytest.raises(SourceError) as caught:
            fresh.read_fleet("main")
    message = str(caught.value)
    assert f"commit {head[:12]} (main)" in message and "\n" not in message
