"""Where `plan` and `sync` read the fleet: `--repo PATH|URL [--rev REV] [--path DIR]`.

- a URL is cloned (cached) and fetched; the revision defaults to HEAD, the remote's default;
- a local git repository is read at `--rev` (default HEAD) straight from its objects;
- a plain directory without git is read from disk (revision null); `--rev` is an error there.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from reconciler.source import FleetFiles, Repository, SourceError, read_worktree
from reconciler.source.remote import is_remote_location


@dataclass(frozen=True)
class FleetSource:
    """An opened `--repo`: reads the fleet files at a revision (None: the default one)."""

    location: str
    path: str | None
    repository: Repository | None  # None for a plain directory

    def read(self, rev: str | None = None) -> FleetFiles:
        """The fleet files at `rev` (default HEAD; a plain directory has no revisions).

        Raises SourceError (unknown revision, unreadable files, unreachable remote).
        """
        if self.repository is None:
            if rev is not None:
                raise SourceError(f"--rev/--base need a git repository; {self.location} is a plain directory")
            return read_worktree(Path(self.location), self.path)
        return self.repository.read_fleet(rev or "HEAD", self.path)


def open_fleet_source(location: str, path: str | None = None, *, fetch: bool = True) -> FleetSource:
    """Open `--repo`: clone/fetch a URL, open a local git repository, or take a plain directory.

    Raises SourceError when the location is neither (or the remote cannot be reached).
    """
    if is_remote_location(location):
        repository = Repository.open(location)
        if fetch:
            repository.fetch()
        return FleetSource(location, path, repository)
    directory = Path(location)
    if not directory.exists():
        raise SourceError(f"fleet repository not found: {location}")
    if (directory / ".git").exists() or _is_bare(directory):
        return FleetSource(location, path, Repository.open(location))
    return FleetSource(location, path, None)


def _is_bare(directory: Path) -> bool:
    return (directory / "HEAD").is_file() and (directory / "objects").is_dir()
