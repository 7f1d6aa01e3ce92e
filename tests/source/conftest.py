"""Fixtures of the git source tests: a fleet repository with history, served for real."""

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.fleetrepo import FleetRepo
from tests.gitserve import serve_git_daemon, serve_git_http

GROUPS_V1 = b"kind: NodeGroupImages\nmetadata: {name: line}\n# v1\n"
GROUPS_V2 = b"kind: NodeGroupImages\nmetadata: {name: line}\n# v2\n"
GROUPS_V3 = b"kind: NodeGroupImages\nmetadata: {name: line}\n# v3\n"
BASE_SET = b"kind: ImageSet\nmetadata: {name: base}\n"


@dataclass(frozen=True)
class History:
    """The served repository and the shas of its three commits on main (oldest first)."""

    repo: FleetRepo
    first: str
    second: str
    third: str


@pytest.fixture
def history(tmp_path: Path) -> History:
    """``served/fleet.git``: three commits on main, tag v1 at the first, branch feature."""
    repo = FleetRepo(tmp_path / "served" / "fleet.git")
    first = repo.commit(
        {"fleet/groups.yaml": GROUPS_V1, "README.md": b"# fleet\n", ".github/ci.yml": b"on: push\n"},
        "Add the shanghai line",
    )
    repo.tag("v1", first)
    second = repo.commit(
        {"fleet/groups.yaml": GROUPS_V2, "fleet/sets/base.yml": BASE_SET, "notes.txt": b"x"},
        "Add the base image set\n\nLonger body.",
    )
    third = repo.commit({"fleet/groups.yaml": GROUPS_V3, "fleet/sets/base.yml": BASE_SET}, "Bump to v3")
    repo.commit({"fleet/groups.yaml": GROUPS_V3, "extra.yaml": b"a: 1\n"}, "Try a feature", branch="feature")
    return History(repo, first, second, third)


@pytest.fixture
def git_daemon_base(history: History) -> Iterator[str]:
    """git:// URL of the directory that holds ``fleet.git``."""
    with serve_git_daemon(history.repo.path.parent) as url:
        yield url


@pytest.fixture
def git_http_base(history: History) -> Iterator[str]:
    """http:// URL of the directory that holds ``fleet.git`` (git http-backend)."""
    with serve_git_http(history.repo.path.parent) as url:
        yield url


@pytest.fixture(params=["git-daemon", "http-backend", "file-url"])
def remote_url(request: pytest.FixtureRequest, history: History) -> Iterator[str]:
    """The served fleet repository, once per transport edgefleet supports."""
    base = history.repo.path.parent
    if request.param == "git-daemon":
        with serve_git_daemon(base) as url:
            yield f"{url}/fleet.git"
    elif request.param == "http-backend":
        with serve_git_http(base) as url:
            yield f"{url}/fleet.git"
    else:
        yield history.repo.path.as_uri()


@pytest.fixture
def cache_dir(tmp_path: Path) -> Path:
    """An empty clone cache, private to the test."""
    return tmp_path / "cache"
