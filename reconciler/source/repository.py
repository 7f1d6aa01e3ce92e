"""A git repository, local or cloned from a URL, read straight from its object database."""

import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pygit2
from pygit2.enums import FileMode, RepositoryOpenFlag, SortMode

from reconciler.source.errors import SourceError, one_line
from reconciler.source.fleet_files import (
    CommitInfo,
    FleetFiles,
    is_fleet_file,
    is_hidden,
    normalize_fleet_path,
    sorted_files,
)
from reconciler.source.remote import (
    NetworkTimeouts,
    RemoteLocation,
    cache_lock,
    cache_path,
    default_cache_dir,
    fetch_origin,
    is_remote_location,
    open_cached_clone,
    parse_remote,
)

_LOOKUP_ERRORS = (KeyError, ValueError, pygit2.GitError, pygit2.InvalidSpecError)


class Repository:
    """A fleet repository. Every method is safe to call from several threads of one process."""

    def __init__(
        self,
        repo: pygit2.Repository,
        location: str,
        remote: RemoteLocation | None,
        lock: threading.RLock,
        timeouts: NetworkTimeouts = NetworkTimeouts(),
    ) -> None:
        """Use ``Repository.open``; this wraps an already opened pygit2 repository.

        ``lock`` guards the clone on disk against concurrent fetches; reads take a lock of their
        own (a pygit2 handle is not for concurrent use) and never wait for a fetch.
        """
        self._repo = repo
        self._location = location
        self._remote = remote
        self._fetch_lock = lock
        self._lock = threading.RLock()
        self._timeouts = timeouts

    @classmethod
    def open(
        cls, location: str, cache_dir: Path | None = None, *, timeouts: NetworkTimeouts = NetworkTimeouts()
    ) -> "Repository":
        """Open a local repository (work tree or bare) or clone/fetch a remote one.

        A URL (file://, git://, http://, https://) is cloned bare into
        ``cache_dir/<hash of the URL>`` (default ``$XDG_CACHE_HOME/edgefleet/repos``) and fetched
        when already there. HTTP basic-auth credentials come from the URL's userinfo or from
        ``EDGEFLEET_GIT_USERNAME``/``EDGEFLEET_GIT_PASSWORD``; they are never stored in the
        cache or shown. A fetch fails once the server is silent for longer than ``timeouts``.
        Raises SourceError (not a repository, unreachable remote, bad URL, timeout).
        """
        if not is_remote_location(location):
            path = Path(location).absolute()
            try:
                repo = pygit2.Repository(str(path), RepositoryOpenFlag.NO_SEARCH)
            except (pygit2.GitError, KeyError, OSError):
                raise SourceError(f"not a git repository: {path}") from None
            return cls(repo, str(path), None, threading.RLock())
        remote = parse_remote(location, os.environ)
        clone = cache_path(cache_dir or default_cache_dir(os.environ), remote.url)
        lock = cache_lock(clone)
        with lock:
            repo = open_cached_clone(remote, clone, timeouts)
        return cls(repo, remote.url, remote, lock, timeouts)

    @property
    def location(self) -> str:
        """The local path or the URL without credentials: safe to print."""
        return self._location

    @property
    def is_remote(self) -> bool:
        """True when opened from a URL (then ``fetch`` talks to the network)."""
        return self._remote is not None

    def fetch(self) -> None:
        """Fetch all branches and tags from the remote; a no-op for a local repository.

        Raises SourceError when the remote cannot be reached or refuses the credentials.
        """
        if self._remote is None:
            return
        with self._fetch_lock:
            # A handle of its own: reads through ``self._repo`` go on while the network is slow
            # (they see the new refs and packs once the fetch has written them).
            fetching = pygit2.Repository(self._repo.path, RepositoryOpenFlag.NO_SEARCH)
            fetch_origin(fetching, self._remote, timeouts=self._timeouts)

    def resolve(self, rev: str) -> str:
        """Return the full sha of the commit ``rev`` names.

        ``rev`` is anything git's revision syntax accepts: a branch ("main"; on a clone, the
        fetched branch of the remote, also "origin/main"), a tag, a short or full sha,
        "HEAD~1". Raises SourceError for an unknown revision or one that is not a commit.
        """
        return str(self._commit(rev).id)

    def read_fleet(self, rev: str, path: str | None = None) -> FleetFiles:
        """Read every ``*.yaml``/``*.yml`` file under ``path`` at ``rev``, without a checkout.

        Hidden directories, symlinks and submodules are skipped; ``path`` may name a directory
        or one file. Raises SourceError for an unknown revision or a path not in that tree.
        """
        relative = normalize_fleet_path(path)
        with self._lock:
            commit = self._commit(rev)
            start: pygit2.Object = commit.tree
            if relative:
                try:
                    start = commit.tree[relative]
                except _LOOKUP_ERRORS:
                    short = str(commit.id)[:12]
                    raise SourceError(
                        f"fleet path {relative!r} not found at {rev} ({short}) in {self.location}"
                    ) from None
            if isinstance(start, pygit2.Blob):
                if not is_fleet_file(relative):
                    raise SourceError(f"fleet path {relative!r} in {self.location} is not a .yaml/.yml file")
                files = {relative: start.data}
            elif isinstance(start, pygit2.Tree):
                files = dict(_fleet_blobs(start, relative))
            else:
                raise SourceError(f"fleet path {relative!r} in {self.location} is a submodule")
        return FleetFiles(revision=str(commit.id), files=sorted_files(files))

    def commits_between(self, old: str, new: str) -> list[CommitInfo]:
        """Commits reachable from ``new`` but not from ``old``, newest first.

        Raises SourceError when either revision is unknown.
        """
        with self._lock:
            new_commit, old_commit = self._commit(new), self._commit(old)
            walker = self._repo.walk(new_commit.id, SortMode.TOPOLOGICAL | SortMode.TIME)
            walker.hide(old_commit.id)
            return [
                CommitInfo(
                    sha=str(commit.id),
                    summary=(commit.message.strip().splitlines() or [""])[0],
                    author=commit.author.name,
                    time=commit.commit_time,
                )
                for commit in walker
            ]

    def _commit(self, rev: str) -> pygit2.Commit:
        with self._lock:
            try:
                found = self._repo.revparse_single(rev) if rev else None
            except _LOOKUP_ERRORS:
                found = None
            if found is None:
                raise SourceError(f"unknown revision {rev!r} in {self.location}")
            try:
                commit = found.peel(pygit2.Commit)
            except _LOOKUP_ERRORS as error:
                raise SourceError(
                    f"revision {rev!r} in {self.location} is not a commit: {one_line(str(error))}"
                ) from None
            assert isinstance(commit, pygit2.Commit)
            return commit


def _fleet_blobs(tree: pygit2.Tree, prefix: str) -> Iterator[tuple[str, bytes]]:
    for entry in tree:
        name = entry.name or ""
        path = f"{prefix}/{name}" if prefix else name
        # Symlink blobs hold a target path, and submodule commits are not in this repository.
        if entry.filemode == FileMode.TREE and not is_hidden(name):
            assert isinstance(entry, pygit2.Tree)
            yield from _fleet_blobs(entry, path)
        elif entry.filemode in (FileMode.BLOB, FileMode.BLOB_EXECUTABLE) and is_fleet_file(name):
            assert isinstance(entry, pygit2.Blob)
            yield path, entry.data
