"""Read the fleet files of a plain directory (a checkout, a CI workspace, a mounted ConfigMap)."""

import os
from pathlib import Path

from reconciler.source.errors import SourceError
from reconciler.source.fleet_files import (
    FleetFiles,
    is_fleet_file,
    is_hidden,
    normalize_fleet_path,
    sorted_files,
)


def read_worktree(root: Path, path: str | None = None) -> FleetFiles:
    """Read every ``*.yaml``/``*.yml`` file under ``root/path`` from disk; git is not needed.

    Keys are posix paths relative to ``root``. Hidden directories (``.git``, ``.github``, ...)
    are skipped. ``path`` may name a directory or a single file. Returns a FleetFiles with
    ``revision=None``. Raises SourceError when ``root`` or ``path`` does not exist or a file
    cannot be read.
    """
    if not root.is_dir():
        raise SourceError(f"fleet directory not found: {root}")
    relative = normalize_fleet_path(path)
    start = root / relative if relative else root
    if start.is_file():
        if not is_fleet_file(start.name):
            raise SourceError(f"fleet path {relative!r} in {root} is not a .yaml/.yml file")
        return FleetFiles(revision=None, files={relative: _read(start)})
    if not start.is_dir():
        raise SourceError(f"fleet path {relative!r} not found in {root}")
    files: dict[str, bytes] = {}
    # Symlinked directories are not followed (os.walk default), so a link cannot pull files in
    # from outside the tree; symlinked files are read, as ConfigMap mounts consist of them.
    for directory, subdirs, names in os.walk(start):
        subdirs[:] = [name for name in subdirs if not is_hidden(name)]
        for name in names:
            if is_fleet_file(name):
                file = Path(directory, name)
                files[file.relative_to(root).as_posix()] = _read(file)
    return FleetFiles(revision=None, files=sorted_files(files))


def _read(file: Path) -> bytes:
    try:
        return file.read_bytes()
    except OSError as error:
        raise SourceError(f"cannot read {file}: {error.strerror or error}") from None
