"""The git source adapter: read fleet files from a directory or a git revision, as plain bytes.

This package does I/O (pygit2, the file system) and no parsing: the manifests layer turns the
bytes it returns into fleet objects.
"""

from reconciler.source.errors import SourceError
from reconciler.source.fleet_files import CommitInfo, FleetFiles
from reconciler.source.remote import NetworkTimeouts
from reconciler.source.repository import Repository
from reconciler.source.worktree import read_worktree

__all__ = ["CommitInfo", "FleetFiles", "NetworkTimeouts", "Repository", "SourceError", "read_worktree"]
