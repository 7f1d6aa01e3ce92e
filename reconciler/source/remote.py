"""Remote repositories: URL parsing, credentials, the clone cache and locked fetches."""

import fcntl
import hashlib
import os
import shutil
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

import pygit2
from pygit2.enums import CredentialType, FetchPrune, RepositoryOpenFlag

from reconciler.source.errors import SourceError, one_line

REMOTE_SCHEMES = ("file", "git", "http", "https")
USERNAME_ENV = "EDGEFLEET_GIT_USERNAME"
PASSWORD_ENV = "EDGEFLEET_GIT_PASSWORD"
# Branches land both as local branches ("main", "main~1" work as in a clone) and as
# remote-tracking ones ("origin/main"); tags are force-updated so a moved tag is seen.
FETCH_REFSPECS = [
    "+refs/heads/*:refs/heads/*",
    "+refs/heads/*:refs/remotes/origin/*",
    "+refs/tags/*:refs/tags/*",
]

# One lock per cache directory for the whole process: two Repository objects opened on one URL
# must not fetch into the same bare clone at once. Across processes a file lock does the same.
_CACHE_LOCKS: dict[Path, threading.RLock] = {}
_CACHE_LOCKS_GUARD = threading.Lock()


@dataclass(frozen=True, slots=True)
class NetworkTimeouts:
    """How long a fetch waits on the network before it fails with a SourceError: `connect`
    seconds to connect, `server` seconds for any one read or write (a server that accepts and
    never answers must not hold a fetch, and whoever waits for it, forever)."""

    connect: float = 10.0
    server: float = 30.0


@dataclass(frozen=True)
class Credentials:
    """HTTP basic-auth credentials; the password never appears in repr() or any message."""

    username: str
    password: str = field(repr=False)


@dataclass(frozen=True)
class RemoteLocation:
    """A remote URL split into what may be shown/stored (``url``) and what may not."""

    url: str
    credentials: Credentials | None


def is_remote_location(location: str) -> bool:
    """True when ``location`` has a URL scheme (anything else is treated as a local path)."""
    scheme, sep, _ = location.partition("://")
    return bool(sep) and scheme.isalnum() and len(scheme) > 1


def parse_remote(location: str, environ: Mapping[str, str]) -> RemoteLocation:
    """Split a URL into its redacted form and credentials (URL userinfo first, then environment).

    Raises SourceError for a scheme other than file, git, http, https.
    """
    parts = urlsplit(location)
    redacted_netloc = parts.netloc.rpartition("@")[2]
    url = urlunsplit(parts._replace(netloc=redacted_netloc))
    if parts.scheme.lower() not in REMOTE_SCHEMES:
        raise SourceError(
            f"unsupported repository URL scheme {parts.scheme!r} in {url} "
            "(use a local path or a file://, git://, http:// or https:// URL)"
        )
    credentials = None
    if parts.username is not None:
        credentials = Credentials(unquote(parts.username), unquote(parts.password or ""))
    elif environ.get(PASSWORD_ENV):
        credentials = Credentials(environ.get(USERNAME_ENV) or "git", environ[PASSWORD_ENV])
    return RemoteLocation(url=url, credentials=credentials)


def default_cache_dir(environ: Mapping[str, str]) -> Path:
    """``$XDG_CACHE_HOME/edgefleet/repos``, or ``~/.cache/edgefleet/repos``."""
    base = environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "edgefleet" / "repos"


def cache_path(cache_dir: Path, url: str) -> Path:
    """The bare clone of ``url`` (already redacted) in ``cache_dir``: a stable hash of the URL."""
    return cache_dir / hashlib.sha256(url.encode()).hexdigest()[:32]


class _Callbacks(pygit2.RemoteCallbacks):
    """Answers the server's authentication challenge once; a second challenge means refused."""

    def __init__(self, remote: RemoteLocation) -> None:
        super().__init__()
        self._remote = remote
        self._asked = False

    def credentials(
        self, url: str, username_from_url: str | None, allowed_types: CredentialType
    ) -> pygit2.UserPass:
        if self._remote.credentials is None:
            raise SourceError(
                f"{self._remote.url} requires credentials: put them in the URL "
                f"or set {USERNAME_ENV} and {PASSWORD_ENV}"
            )
        if self._asked or not allowed_types & CredentialType.USERPASS_PLAINTEXT:
            raise SourceError(f"authentication to {self._remote.url} failed")
        self._asked = True
        return pygit2.UserPass(self._remote.credentials.username, self._remote.credentials.password)


def cache_lock(path: Path) -> threading.RLock:
    """The process-wide lock that guards the bare clone at ``path``."""
    with _CACHE_LOCKS_GUARD:
        return _CACHE_LOCKS.setdefault(path, threading.RLock())


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    # Another edgefleet process (a CLI run beside the daemon) may share the cache.
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def open_cached_clone(remote: RemoteLocation, path: Path,
                      timeouts: NetworkTimeouts = NetworkTimeouts()) -> pygit2.Repository:
    """Open the bare clone at ``path`` and fetch it, or create it by a fetch into a fresh repository.

    A new clone is built in a staging directory and renamed into place only once its first
    fetch succeeded, so an interrupted clone never leaves a half-made cache behind; a cache that
    no longer opens is rebuilt. Raises SourceError when the remote cannot be fetched. The caller
    holds ``cache_lock(path)``.
    """
    with _file_lock(path):
        # Holding the file lock, no other process is cloning: staging leftovers are stale.
        for stale in path.parent.glob(f"{path.name}.tmp-*"):
            shutil.rmtree(stale, ignore_errors=True)
        if path.is_dir():
            try:
                repo = pygit2.Repository(str(path), RepositoryOpenFlag.NO_SEARCH)
            except (pygit2.GitError, KeyError, OSError):
                shutil.rmtree(path, ignore_errors=True)
            else:
                fetch_origin(repo, remote, timeouts=timeouts, locked=True)
                return repo
        staging = path.with_name(f"{path.name}.tmp-{os.getpid()}-{threading.get_ident()}")
        try:
            repo = pygit2.init_repository(str(staging), bare=True)
            repo.remotes.create("origin", remote.url)
            fetch_origin(repo, remote, timeouts=timeouts, locked=True)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        staging.rename(path)
    return pygit2.Repository(str(path), RepositoryOpenFlag.NO_SEARCH)


def fetch_origin(repo: pygit2.Repository, remote: RemoteLocation, *,
                 timeouts: NetworkTimeouts = NetworkTimeouts(), locked: bool = False) -> None:
    """Fetch every branch and tag of ``origin`` into ``repo`` and point HEAD at the remote's HEAD.

    libgit2 writes the pack before it updates refs, one ref at a time and atomically, so an
    interrupted fetch leaves the previous (consistent) refs. Raises SourceError on failure,
    also when the server does not answer within ``timeouts``.
    """
    if not locked:
        with _file_lock(Path(repo.path.rstrip("/"))):
            fetch_origin(repo, remote, timeouts=timeouts, locked=True)
        return
    # libgit2's timeouts are process-wide settings (milliseconds), read when a connection opens.
    pygit2.settings.server_connect_timeout = max(1, round(timeouts.connect * 1000))
    pygit2.settings.server_timeout = max(1, round(timeouts.server * 1000))
    origin = repo.remotes["origin"]
    try:
        origin.fetch(FETCH_REFSPECS, callbacks=_Callbacks(remote), prune=FetchPrune.PRUNE)
        heads = origin.list_heads(connect=False)
    except SourceError:
        raise
    except (pygit2.GitError, OSError, ValueError, KeyError) as error:
        raise SourceError(f"cannot fetch {remote.url}: {one_line(str(error))}") from None
    for head in heads:
        if head.name == "HEAD" and head.symref_target:
            repo.set_head(head.symref_target)
