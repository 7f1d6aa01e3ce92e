"""Remote repositories over git://, http:// (smart HTTP) and file://: clone, fetch, errors."""

import shutil
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pygit2
import pytest

from reconciler.source import NetworkTimeouts, Repository, SourceError
from tests.gitserve import closed_port_url, serve_git_http
from tests.source.conftest import GROUPS_V1, GROUPS_V3, History


def test_clone_resolves_branches_tags_and_history(remote_url: str, history: History, cache_dir: Path) -> None:
    repo = Repository.open(remote_url, cache_dir=cache_dir)
    assert repo.is_remote and repo.location == remote_url
    assert repo.resolve("main") == repo.resolve("origin/main") == repo.resolve("HEAD") == history.third
    assert repo.resolve("main~1") == history.second
    assert repo.resolve("v1") == history.first
    assert repo.resolve(history.second[:7]) == history.second
    assert repo.read_fleet("v1").files == {"fleet/groups.yaml": GROUPS_V1}
    assert repo.read_fleet("main", "fleet").files["fleet/groups.yaml"] == GROUPS_V3
    assert [c.sha for c in repo.commits_between("v1", "main")] == [history.third, history.second]
    assert len([p for p in cache_dir.iterdir() if p.is_dir()]) == 1


def test_fetch_sees_a_new_commit_and_a_deleted_branch(
    remote_url: str, history: History, cache_dir: Path
) -> None:
    repo = Repository.open(remote_url, cache_dir=cache_dir)
    assert repo.resolve("feature")
    fourth = history.repo.commit({"fleet/groups.yaml": b"v4"}, "Bump to v4")
    history.repo.repo.references.delete("refs/heads/feature")
    assert repo.resolve("main") == history.third  # nothing changes before a fetch
    repo.fetch()
    assert repo.resolve("main") == fourth
    assert repo.read_fleet("main").files == {"fleet/groups.yaml": b"v4"}
    assert [c.summary for c in repo.commits_between(history.third, "main")] == ["Bump to v4"]
    with pytest.raises(SourceError, match=r"^unknown revision 'feature' in "):
        repo.resolve("feature")


def test_a_force_push_backwards_is_seen_and_the_newer_commit_stays_readable(
    remote_url: str, history: History, cache_dir: Path
) -> None:
    repo = Repository.open(remote_url, cache_dir=cache_dir)
    assert repo.descends_from("main", history.first) and repo.descends_from(history.third, history.third)
    history.repo.repo.references["refs/heads/main"].set_target(history.first)  # git push --force
    repo.fetch()
    assert repo.resolve("main") == history.first
    assert not repo.descends_from("main", history.third)
    # The commit the branch left is still in the clone: the revision in force can be read.
    assert repo.read_fleet(history.third, "fleet").files["fleet/groups.yaml"] == GROUPS_V3
    with pytest.raises(SourceError, match=r"^unknown revision 'nope' in "):
        repo.descends_from("nope", history.first)


def test_reopening_reuses_the_cache_and_fetches(remote_url: str, history: History, cache_dir: Path) -> None:
    Repository.open(remote_url, cache_dir=cache_dir)
    clones = sorted(p for p in cache_dir.iterdir() if p.is_dir())
    fourth = history.repo.commit({"fleet/groups.yaml": b"v4"}, "Bump to v4")
    again = Repository.open(remote_url, cache_dir=cache_dir)
    assert again.resolve("main") == fourth
    assert sorted(p for p in cache_dir.iterdir() if p.is_dir()) == clones


def test_broken_cache_and_stale_staging_are_rebuilt(
    remote_url: str, history: History, cache_dir: Path
) -> None:
    Repository.open(remote_url, cache_dir=cache_dir)
    (clone,) = [p for p in cache_dir.iterdir() if p.is_dir()]
    shutil.rmtree(clone / "objects")
    shutil.rmtree(clone / "refs")
    stale = clone.with_name(clone.name + ".tmp-1-1")
    stale.mkdir()
    assert Repository.open(remote_url, cache_dir=cache_dir).resolve("main") == history.third
    assert not stale.exists()


def test_concurrent_fetches_of_one_cache(git_daemon_base: str, history: History, cache_dir: Path) -> None:
    url = f"{git_daemon_base}/fleet.git"
    repos = [Repository.open(url, cache_dir=cache_dir) for _ in range(3)]
    fourth = history.repo.commit({"fleet/groups.yaml": b"v4"}, "Bump to v4")
    errors: list[BaseException] = []

    def fetch(repo: Repository) -> None:
        try:
            for _ in range(3):
                repo.fetch()
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=fetch, args=(repo,)) for repo in repos]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert {repo.resolve("main") for repo in repos} == {fourth}


@pytest.mark.parametrize("scheme", [pytest.param("git", id="git"), pytest.param("http", id="http")])
def test_unreachable_remote_is_one_line_and_leaves_no_cache(scheme: str, cache_dir: Path) -> None:
    url = closed_port_url(scheme)
    with pytest.raises(SourceError) as caught:
        Repository.open(url, cache_dir=cache_dir)
    message = str(caught.value)
    assert message.startswith(f"cannot fetch {url}: ")
    assert "\n" not in message
    assert [p for p in cache_dir.iterdir() if p.is_dir()] == []


def test_missing_repository_on_a_server(git_http_base: str, cache_dir: Path) -> None:
    with pytest.raises(SourceError, match=rf"^cannot fetch {git_http_base}/absent.git: "):
        Repository.open(f"{git_http_base}/absent.git", cache_dir=cache_dir)


def test_unsupported_scheme(cache_dir: Path) -> None:
    with pytest.raises(SourceError) as caught:
        Repository.open("ssh://user:pw@host/fleet.git", cache_dir=cache_dir)
    assert str(caught.value) == (
        "unsupported repository URL scheme 'ssh' in ssh://host/fleet.git "
        "(use a local path or a file://, git://, http:// or https:// URL)"
    )


@pytest.fixture
def private_http(history: History) -> Iterator[str]:
    with serve_git_http(history.repo.path.parent, credentials=("fleet-bot", "s3cr3t-t0ken")) as url:
        yield url.removeprefix("http://")


def test_basic_auth_from_url_is_never_stored(private_http: str, history: History, cache_dir: Path) -> None:
    repo = Repository.open(f"http://fleet-bot:s3cr3t-t0ken@{private_http}/fleet.git", cache_dir=cache_dir)
    assert repo.location == f"http://{private_http}/fleet.git"
    assert repo.resolve("main") == history.third
    repo.fetch()
    stored = b"".join(p.read_bytes() for p in cache_dir.rglob("*") if p.is_file())
    assert b"s3cr3t" not in stored
    assert (
        pygit2.Repository(str(next(p for p in cache_dir.iterdir() if p.is_dir()))).remotes["origin"].url
        == repo.location
    )


def test_basic_auth_from_environment(
    private_http: str, history: History, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EDGEFLEET_GIT_USERNAME", "fleet-bot")
    monkeypatch.setenv("EDGEFLEET_GIT_PASSWORD", "s3cr3t-t0ken")
    assert (
        Repository.open(f"http://{private_http}/fleet.git", cache_dir=cache_dir).resolve("v1")
        == history.first
    )


@pytest.mark.parametrize(
    ("userinfo", "expected"),
    [
        pytest.param("fleet-bot:wrong-s3cr3t@", "authentication to {url} failed", id="wrong-password"),
        pytest.param(
            "",
            "{url} requires credentials: put them in the URL or set EDGEFLEET_GIT_USERNAME and "
            "EDGEFLEET_GIT_PASSWORD",
            id="no-credentials",
        ),
    ],
)
def test_refused_credentials_are_one_line_without_secrets(
    private_http: str, cache_dir: Path, userinfo: str, expected: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("EDGEFLEET_GIT_PASSWORD", raising=False)
    with pytest.raises(SourceError) as caught:
        Repository.open(f"http://{userinfo}{private_http}/fleet.git", cache_dir=cache_dir)
    assert str(caught.value) == expected.format(url=f"http://{private_http}/fleet.git")


@pytest.fixture
def silent_server() -> Iterator[str]:
    """git:// URL of a server that accepts connections and never answers."""
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except TimeoutError:
                continue

    acceptor = threading.Thread(target=accept, daemon=True)
    acceptor.start()
    yield f"git://127.0.0.1:{listener.getsockname()[1]}/fleet.git"
    stop.set()
    acceptor.join(5)
    for connection in held:
        connection.close()
    listener.close()


def test_a_silent_server_fails_the_clone_after_the_server_timeout(
    silent_server: str, cache_dir: Path
) -> None:
    with pytest.raises(SourceError, match=r"^cannot fetch git://127\.0\.0\.1:\d+/fleet\.git: .*timed out"):
        Repository.open(silent_server, cache_dir=cache_dir, timeouts=NetworkTimeouts(connect=1, server=0.5))
    assert [p for p in cache_dir.iterdir() if p.is_dir()] == []  # no half-made clone is left


def test_reads_go_on_while_a_fetch_waits_on_a_silent_server(
    history: History, git_daemon_base: str, silent_server: str, cache_dir: Path
) -> None:
    repo = Repository.open(f"{git_daemon_base}/fleet.git", cache_dir=cache_dir,
                           timeouts=NetworkTimeouts(connect=1, server=3))
    (clone,) = [p for p in cache_dir.iterdir() if p.is_dir()]
    pygit2.Repository(str(clone)).remotes.set_url("origin", silent_server)  # the forge hangs
    failures: list[Exception] = []

    def fetch() -> None:
        try:
            repo.fetch()
        except SourceError as error:
            failures.append(error)

    fetching = threading.Thread(target=fetch)
    fetching.start()
    files = repo.read_fleet("main").files  # the revision at hand, while the fetch hangs
    still_fetching = fetching.is_alive()
    fetching.join(10)
    assert files["fleet/groups.yaml"] == GROUPS_V3
    assert still_fetching
    assert len(failures) == 1 and "timed out" in str(failures[0])
