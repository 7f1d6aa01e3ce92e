"""Build git history for tests with pygit2: a bare repository, commits of whole file sets."""

from pathlib import Path

import pygit2

AUTHOR = pygit2.Signature("Fleet Tester", "tester@example.com", 1_700_000_000, 0)


class FleetRepo:
    """A bare repository under test control; ``commit`` replaces the whole tree of a branch."""

    def __init__(self, path: Path, branch: str = "main") -> None:
        self.path = path
        self.repo = pygit2.init_repository(str(path), bare=True, initial_head=branch)
        self.branch = branch
        self._clock = AUTHOR.time

    def commit(self, files: dict[str, bytes], message: str, *, branch: str | None = None) -> str:
        """Commit ``files`` (path -> content) as the full tree of ``branch``; returns the sha.

        Each commit is one minute after the previous one, so history order is deterministic.
        """
        ref = f"refs/heads/{branch or self.branch}"
        self._clock += 60
        author = pygit2.Signature(AUTHOR.name, AUTHOR.email, self._clock, 0)
        parents = [self.repo.references[ref].target] if ref in self.repo.references else []
        tree = self._tree(files)
        oid = self.repo.create_commit(ref, author, author, message, tree, parents)
        return str(oid)

    def tag(self, name: str, sha: str) -> None:
        """Create a lightweight tag ``name`` at ``sha``."""
        self.repo.references.create(f"refs/tags/{name}", pygit2.Oid(hex=sha))

    def _tree(self, files: dict[str, bytes]) -> pygit2.Oid:
        # Build nested trees bottom-up from the flat path -> content mapping.
        nested: dict[str, object] = {}
        for path, content in files.items():
            node = nested
            *dirs, name = path.split("/")
            for directory in dirs:
                child = node.setdefault(directory, {})
                assert isinstance(child, dict)
                node = child
            node[name] = content
        return self._write(nested)

    def _write(self, node: dict[str, object]) -> pygit2.Oid:
        builder = self.repo.TreeBuilder()
        for name, value in sorted(node.items()):
            if isinstance(value, bytes):
                builder.insert(name, self.repo.create_blob(value), pygit2.enums.FileMode.BLOB)
            else:
                assert isinstance(value, dict)
                builder.insert(name, self._write(value), pygit2.enums.FileMode.TREE)
        return builder.write()
