"""Following a branch: which revision a cycle reads, and when a cycle is queued."""

from __future__ import annotations

import threading

import pytest

from reconciler.controller.gitpoll import BranchFollower
from reconciler.source import FleetFiles, SourceError


class FakeRepository:
    """A function-shaped stand-in for source.Repository: a branch head that tests move."""

    def __init__(self) -> None:
        self.head = "1" * 40
        self.unreachable = False
        self.answer: threading.Event | None = None  # set: the server answers only when this is set

    def fetch(self) -> None:
        if self.answer is not None:
            self.answer.wait(10)
        if self.unreachable:
            raise SourceError("git://example/fleet.git: connection refused")

    def resolve(self, rev: str) -> str:
        assert rev == "main"
        return self.head

    def read_fleet(self, rev: str, path: str | None = None) -> FleetFiles:
        return FleetFiles(revision=rev, files={})

    def descends_from(self, rev: str, ancestor: str) -> bool:
        return rev >= ancestor  # one straight line of history: "1"*40, "2"*40, ...


@pytest.fixture
def repo() -> FakeRepository:
    return FakeRepository()


@pytest.fixture
def queued() -> list[str]:
    return []


@pytest.fixture
def follower(repo: FakeRepository, queued: list[str]) -> BranchFollower:
    return BranchFollower("git://example/fleet.git", "main", None, cache_dir=None,
                          on_new_revision=queued.append,
                          open_repository=lambda url, cache: repo)  # type: ignore[arg-type,return-value]


def test_nothing_is_read_before_the_first_fetch(follower: BranchFollower) -> None:
    with pytest.raises(SourceError, match="not been fetched"):
        follower.read_revision()


def test_a_moved_head_queues_one_cycle(follower: BranchFollower, repo: FakeRepository,
                                       queued: list[str]) -> None:
    follower.poll()
    follower.poll()
    repo.head = "2" * 40
    follower.poll()
    assert queued == ["1" * 40, "2" * 40]
    assert follower.read_revision().revision == "2" * 40


def test_an_invalid_head_falls_back_to_the_last_good_revision(follower: BranchFollower,
                                                              repo: FakeRepository) -> None:
    follower.poll()
    follower.record("1" * 40, good=True)
    repo.head = "2" * 40
    follower.poll()
    follower.record("2" * 40, good=False, reason="groups/x.yaml:1:1: bad")
    assert follower.read_revision().revision == "1" * 40
    assert not follower.head_is_known_bad()
    status = follower.status()
    assert (status.head, status.bad, status.bad_reason) == ("2" * 40, "2" * 40, "groups/x.yaml:1:1: bad")
    repo.head = "3" * 40  # the fix arrives
    follower.poll()
    assert follower.read_revision().revision == "3" * 40


def test_an_invalid_first_revision_waits_for_a_new_commit(follower: BranchFollower) -> None:
    follower.poll()
    follower.record("1" * 40, good=False, reason="bad")
    assert follower.head_is_known_bad()


def test_a_failed_fetch_keeps_the_known_head_and_says_why(follower: BranchFollower, repo: FakeRepository,
                                                          queued: list[str]) -> None:
    follower.poll()
    repo.unreachable = True
    assert follower.poll() == "1" * 40
    assert follower.status().fetch_error == "git://example/fleet.git: connection refused"
    assert follower.read_revision().revision == "1" * 40
    repo.unreachable = False
    follower.poll()
    assert follower.status().fetch_error is None
    assert queued == ["1" * 40]


def test_a_hanging_fetch_blocks_neither_the_status_nor_the_revision_in_force(
        follower: BranchFollower, repo: FakeRepository) -> None:
    first = follower.poll()
    repo.answer = threading.Event()  # the git server stops answering
    repo.head = "2" * 40
    polling = threading.Thread(target=follower.poll)
    polling.start()
    try:
        status = follower.status()
        files = follower.read_revision()
        assert polling.is_alive()  # both answered while the fetch still hangs
        assert status.head == first and files.revision == first
    finally:
        repo.answer.set()
        polling.join(10)
    assert follower.status().head == "2" * 40


def test_a_force_push_to_an_older_revision_is_held_until_the_branch_moves_forward(
        follower: BranchFollower, repo: FakeRepository) -> None:
    follower.poll()
    follower.record("1" * 40, good=True)
    repo.head = "2" * 40
    follower.poll()
    follower.record("2" * 40, good=True)
    repo.head = "1" * 40  # the branch reset to the older commit (git push --force)
    follower.poll()
    assert follower.read_revision().revision == "2" * 40
    status = follower.status()
    assert status.bad == "1" * 40 and status.bad_reason is not None
    assert "does not descend from 222222222222" in status.bad_reason and "force-push" in status.bad_reason
    follower.record("2" * 40, good=True)  # cycles of the revision in force keep it held
    assert follower.read_revision().revision == "2" * 40
    repo.head = "3" * 40  # a commit on top of the revision in force (a revert, a fix)
    follower.poll()
    assert follower.read_revision().revision == "3" * 40


def test_resetting_a_broken_head_to_the_revision_in_force_is_followed(
        follower: BranchFollower, repo: FakeRepository) -> None:
    follower.poll()
    follower.record("1" * 40, good=True)
    repo.head = "2" * 40
    follower.poll()
    follower.record("2" * 40, good=False, reason="groups/x.yaml:1:1: bad")
    repo.head = "1" * 40  # git reset --hard HEAD~1 && git push --force
    follower.poll()
    assert follower.read_revision().revision == "1" * 40
    assert follower.status().bad != "1" * 40
