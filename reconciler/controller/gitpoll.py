"""Following a branch: fetch, notice new commits, and choose which revision a cycle reads.

`poll()` runs on the scheduler (every --interval, with jitter) and on a verified webhook; it
fetches and resolves the branch, and queues a cycle when the head moved. `read_revision()` is
what the cycle reads: the head, unless the head is known to be invalid, then the last good
revision, so the fleet in force keeps converging (nodes still join and fail) while a broken
commit waits for a fix. A head that does not descend from the revision in force (a force-push
backwards) is held the same way (controller/rewind.py).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from reconciler.controller.rewind import rewind_reason
from reconciler.source import FleetFiles, Repository, SourceError

log = logging.getLogger("edgefleet.git")


@dataclass(frozen=True, slots=True)
class RevisionStatus:
    """What the branch looks like to the controller right now."""

    head: str | None  # newest commit fetched (None before the first successful fetch)
    bad: str | None  # the head, when a cycle found it invalid
    bad_reason: str | None
    last_good: str | None  # the newest revision that loaded and was applied
    fetch_error: str | None  # why the last fetch failed (None after a success)


class BranchFollower:
    """Tracks one branch of one repository. Thread-safe: `poll` and `read_revision` may race."""

    def __init__(self, url: str, branch: str, path: str | None, *, cache_dir: Path | None,
                 on_new_revision: Callable[[str], None],
                 open_repository: Callable[[str, Path | None], Repository] = Repository.open) -> None:
        self._url, self._branch, self._path = url, branch, path
        self._cache_dir = cache_dir
        self._on_new = on_new_revision
        self._open = open_repository
        self._repo: Repository | None = None
        # Fetches take a lock of their own, outside the state lock: a slow or silent git server
        # (bounded by the source's network timeouts) never holds up a cycle that reads the
        # revision in force, nor the status page.
        self._fetch_lock = threading.Lock()
        self._lock = threading.Lock()
        self._head: str | None = None
        self._bad: tuple[str, str] | None = None
        self._last_good: str | None = None
        self._fetch_error: str | None = None

    def status(self) -> RevisionStatus:
        with self._lock:
            return RevisionStatus(self._head, self._bad[0] if self._bad else None,
                                  self._bad[1] if self._bad else None, self._last_good, self._fetch_error)

    def poll(self) -> str | None:
        """Fetch and resolve the branch; queue a cycle if its head moved. Returns the head.

        Never raises: a fetch failure is logged and kept in `status().fetch_error` (the cycle
        keeps using the commits already fetched).
        """
        with self._fetch_lock:
            repo = self._repo  # only poll() sets it, and polls run one at a time
            try:
                if repo is None:
                    # open() clones or fetches: the first fetch is part of opening.
                    repo = self._open(self._url, self._cache_dir)
                else:
                    repo.fetch()
                head = repo.resolve(self._branch)
                with self._lock:
                    in_force = self._last_good if head != self._head else None
                held = rewind_reason(repo, self._branch, head, in_force)
            except SourceError as error:
                with self._lock:
                    if self._fetch_error != str(error):
                        log.warning("git: cannot fetch branch %s: %s", self._branch, error)
                    self._fetch_error = str(error)
                    return self._head
            with self._lock:
                if self._fetch_error is not None:
                    log.info("git: fetching works again")
                self._fetch_error = None
                self._repo = repo
                moved = head != self._head
                self._head = head
                if held is not None:  # set with the head: no cycle may read it in between
                    self._bad = (head, held)
        if moved:
            log.info("git: branch %s is at %s", self._branch, head[:12])
            if held is not None:
                log.warning("git: %s", held)
            self._on_new(head)
        return head

    def read_revision(self) -> FleetFiles:
        """The fleet files a cycle should read (see the module docstring).

        Raises SourceError before the first successful fetch, or when the repository cannot
        be read.
        """
        with self._lock:
            if self._repo is None or self._head is None:
                raise SourceError(self._fetch_error or f"branch {self._branch} has not been fetched yet")
            revision = self._head
            if self._bad is not None and self._bad[0] == revision and self._last_good is not None:
                revision = self._last_good
            repo = self._repo
        try:
            return repo.read_fleet(revision, self._path)
        except SourceError as error:
            # The commit cannot be read at all (objects missing or damaged, the fleet path
            # gone): as broken as an invalid one, so the last good revision stays in force.
            fallback = self._unreadable(revision, str(error))
            if fallback is None:
                raise
            return repo.read_fleet(fallback, self._path)

    def _unreadable(self, revision: str, reason: str) -> str | None:
        """Mark the head `revision` bad; returns the revision to read instead, if any."""
        self.record(revision, good=False, reason=reason)
        with self._lock:
            fallback = self._last_good
        return fallback if fallback not in (None, revision) else None

    def head_is_known_bad(self) -> bool:
        """True when the head failed to load and there is no good revision to fall back to:
        a cycle would only repeat the same error."""
        with self._lock:
            return self._bad is not None and self._bad[0] == self._head and self._last_good is None

    def record(self, revision: str | None, *, good: bool, reason: str = "") -> None:
        """Remember how a cycle found `revision`: applied (good) or invalid (bad, with reason)."""
        if revision is None:
            return
        with self._lock:
            if good:
                self._last_good = revision
                if self._bad is not None and self._bad[0] == revision:
                    self._bad = None
            elif revision == self._head:
                if self._bad is None or self._bad[0] != revision:
                    log.error("git: revision %s does not load; keeping %s in force: %s", revision[:12],
                              (self._last_good or "nothing")[:12], reason)
                self._bad = (revision, reason)
