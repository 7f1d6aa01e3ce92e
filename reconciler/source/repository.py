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
            reader = _ObjectReader(self._repo, commit, rev, self.location)
            start = reader.load(commit.tree_id, "tree")
            if relative:
                start = reader.find(start, relative)
            if isinstance(start, pygit2.Blob):
                if not is_fleet_file(relative):
                    raise SourceError(f"fleet path {relative!r} in {self.location} is not a .yaml/.yml file")
                files = {relative: start.data}
            elif isinstance(start, pygit2.Tree):
                files = dict(reader.fleet_blobs(start, relative))
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
            try:
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
            except _LOOKUP_ERRORS as error:
                # A parent commit missing from the object database (a damaged or shallow copy).
                raise SourceError(
                    f"cannot walk the history from {old} to {new} in {self.location}: "
                    f"{one_line(str(error))} (the repository is incomplete or damaged)"
                ) from None

    def descends_from(self, rev: str, ancestor: str) -> bool:
        """True when ``rev`` is ``ancestor`` or has it in its history (a fast-forward from it).

        Raises SourceError when either revision is unknown or the history cannot be walked.
        """
        with self._lock:
            new, old = self._commit(rev), self._commit(ancestor)
            if new.id == old.id:
                return True
            try:
                return bool(self._repo.descendant_of(new.id, old.id))
            except _LOOKUP_ERRORS as error:
                raise SourceError(
                    f"cannot walk the history from {ancestor} to {rev} in {self.location}: "
                    f"{one_line(str(error))} (the repository is incomplete or damaged)"
                ) from None

    def _commit(self, rev: str) -> pygit2.Commit:
        with self._lock:
            try:
                found = self._repo.revparse_single(rev) if rev else None
            except _LOOKUP_ERRORS:
                found = None
            if found is None:
                self._refuse_dangling(rev)
                raise SourceError(f"unknown revision {rev!r} in {self.location}")
            try:
                commit = found.peel(pygit2.Commit)
            except _LOOKUP_ERRORS as error:
                raise SourceError(
                    f"revision {rev!r} in {self.location} is not a commit: {one_line(str(error))}"
                ) from None
            assert isinstance(commit, pygit2.Commit)
            return commit


    def _refuse_dangling(self, rev: str) -> None:
        # A branch or tag that names a commit the object database lacks is a damaged
        # repository, not an unknown revision: say which commit is missing.
        try:
            target = self._repo.lookup_reference_dwim(rev).resolve().target
        except _LOOKUP_ERRORS:
            return
        if isinstance(target, pygit2.Oid) and self._repo.get(target) is None:
            raise SourceError(
                f"{rev!r} in {self.location} points at commit {target}, which is missing from the "
                f"repository (damaged or incomplete: re-clone it or run git fsck)"
            )


class _ObjectReader:
    """Loads the trees and blobs of one commit, turning a missing or unreadable object into a
    SourceError that names the commit and the object (libgit2 raises a bare GitError)."""

    def __init__(self, repo: pygit2.Repository, commit: pygit2.Commit, rev: str, location: str) -> None:
        self._repo, self._location, self._rev = repo, location, rev
        self._short = str(commit.id)[:12]
        self._commit = f"commit {self._short}" + ("" if str(commit.id).startswith(rev) else f" ({rev})")

    def load(self, oid: pygit2.Oid, kind: str, path: str = "") -> pygit2.Object:
        """The object `oid` (a `kind`, at `path` in the commit's tree)."""
        where = f" ({path})" if path else ""
        try:
            found = self._repo.get(oid)
        except (pygit2.GitError, ValueError) as error:
            cause = one_line(str(error)).removeprefix(f"{oid}: ")
            raise SourceError(
                f"{self._commit} in {self._location}: cannot read {kind} {oid}{where}: {cause} "
                "(the repository is damaged: re-clone it or run git fsck)"
            ) from None
        if found is None:
            raise SourceError(
                f"{self._commit} in {self._location}: {kind} {oid}{where} is missing "
                "(the repository is damaged or incomplete: re-clone it or run git fsck)"
            )
        return found

    def find(self, tree: pygit2.Object, relative: str) -> pygit2.Object:
        """The object at `relative` under `tree`, loading each tree on the way."""
        node, walked = tree, []
        for part in relative.split("/"):
            entry = None
            if isinstance(node, pygit2.Tree):
                entry = next((e for e in node if e.name == part), None)
            if entry is None:
                raise SourceError(
                    f"fleet path {relative!r} not found at {self._rev} ({self._short}) in {self._location}"
                )
            walked.append(part)
            if entry.filemode == FileMode.COMMIT:
                return entry  # a submodule: its commit is not in this repository
            node = self.load(entry.id, "tree" if entry.filemode == FileMode.TREE else "blob",
                             "/".join(walked))
        return node

    def fleet_blobs(self, tree: pygit2.Tree, prefix: str) -> Iterator[tuple[str, bytes]]:
        """(path, content) of every fleet file under `tree`, hidden directories skipped."""
        for entry in tree:
            name = entry.name or ""
            path = f"{prefix}/{name}" if prefix else name
            # Symlink blobs hold a target path, and submodule commits are not in this repository.
            if entry.filemode == FileMode.TREE and not is_hidden(name):
                subtree = self.load(entry.id, "tree", path)
                assert isinstance(subtree, pygit2.Tree)
                yield from self.fleet_blobs(subtree, path)
            elif entry.filemode in (FileMode.BLOB, FileMode.BLOB_EXECUTABLE) and is_fleet_file(name):
                blob = self.load(entry.id, "blob", path)
                assert isinstance(blob, pygit2.Blob)
                yield path, blob.data
