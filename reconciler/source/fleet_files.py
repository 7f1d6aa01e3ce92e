"""The values the git source hands to the rest of edgefleet: plain bytes, no parsing."""

from dataclasses import dataclass
from pathlib import PurePosixPath

from reconciler.source.errors import SourceError

FLEET_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class FleetFiles:
    """The fleet files of one revision (or of a plain directory).

    ``revision`` is the full commit sha, or None when read from a working tree.
    ``files`` maps repo-relative posix paths to raw contents, sorted by path.
    """

    revision: str | None
    files: dict[str, bytes]


@dataclass(frozen=True)
class CommitInfo:
    """One commit as a report shows it: sha, first message line, author name, commit time."""

    sha: str
    summary: str
    author: str
    time: int


def is_fleet_file(name: str) -> bool:
    """True for a ``*.yaml``/``*.yml`` file name (the fleet format reads nothing else)."""
    return name.endswith(FLEET_SUFFIXES)


def is_hidden(name: str) -> bool:
    """True for a dot-entry (``.git``, ``.github``, Kubernetes ``..data`` mounts): never fleet input."""
    return name.startswith(".")


def normalize_fleet_path(path: str | None) -> str:
    """Return ``path`` as a clean repo-relative posix path ('' for the root).

    Raises SourceError for an absolute path or one that climbs out with '..'.
    """
    if path is None:
        return ""
    pure = PurePosixPath(path.replace("\\", "/"))
    if pure.is_absolute() or ".." in pure.parts:
        raise SourceError(f"fleet path {path!r} must be relative to the repository root, without '..'")
    text = pure.as_posix()
    return "" if text == "." else text


def sorted_files(files: dict[str, bytes]) -> dict[str, bytes]:
    """Return ``files`` ordered by path, so two reads of one revision are byte-identical."""
    return {name: files[name] for name in sorted(files)}
