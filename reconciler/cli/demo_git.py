"""The demo's fleet repository: a copy of fleet-examples/ committed to a temporary git repository
and served read-only by a real `git daemon` on 127.0.0.1 (a free port), as a forge would serve it.

The work tree is where the demo edits and commits; `push()` sends the branch to the bare
repository that `git daemon` serves, exactly as a developer's `git push` would.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType

#: A fixed identity and environment: the demo never reads or writes the user's git config.
_GIT_ENV = {
    "GIT_AUTHOR_NAME": "edgefleet demo", "GIT_AUTHOR_EMAIL": "demo@edgefleet.invalid",
    "GIT_COMMITTER_NAME": "edgefleet demo", "GIT_COMMITTER_EMAIL": "demo@edgefleet.invalid",
    "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_TERMINAL_PROMPT": "0",
}


class GitError(Exception):
    """A git command failed; `str()` is one line."""


def _git(*args: str, cwd: Path) -> str:
    env = {**os.environ, **_GIT_ENV}
    done = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise GitError(f"git {' '.join(args)}: {' '.join(done.stderr.split()) or done.returncode}")
    return done.stdout.strip()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _signal_group(group: int, signum: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):  # the group has ended already
        os.killpg(group, signum)


class ServedFleetRepository:
    """`fleet-examples/` in a git repository served by `git daemon`; a context manager that stops
    the daemon on exit (the caller owns `root` and removes it)."""

    def __init__(self, root: Path, source: Path, *, branch: str = "main") -> None:
        self.root, self.branch = root, branch
        self.work = root / "work"
        self.served = root / "served"
        self.bare = self.served / "fleet.git"
        self._source = source
        self._daemon: subprocess.Popen[bytes] | None = None
        self.url = ""

    def start(self) -> ServedFleetRepository:
        """Commit the example fleet, clone it bare, serve it. Raises GitError or OSError."""
        shutil.copytree(self._source, self.work)
        _git("init", "-q", "-b", self.branch, cwd=self.work)
        _git("add", "-A", cwd=self.work)
        _git("commit", "-q", "-m", "Example fleet", cwd=self.work)
        self.served.mkdir(parents=True)
        _git("clone", "-q", "--bare", str(self.work), str(self.bare), cwd=self.root)
        _git("remote", "add", "origin", str(self.bare), cwd=self.work)
        port = _free_port()
        # A session of its own: git daemon forks a child per connection, and stop() ends the
        # whole group, whatever signal ends the demo.
        self._daemon = subprocess.Popen(
            ["git", "daemon", "--reuseaddr", "--export-all", f"--base-path={self.served}",
             "--listen=127.0.0.1", f"--port={port}", str(self.served)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, **_GIT_ENV},
            start_new_session=True)
        try:
            self._wait_listening(port)
        except BaseException:
            self.stop()
            raise
        self.url = f"git://127.0.0.1:{port}/fleet.git"
        return self

    def _wait_listening(self, port: int) -> None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self._daemon is not None and self._daemon.poll() is not None:
                raise GitError(f"git daemon exited with code {self._daemon.returncode}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise GitError(f"git daemon did not listen on 127.0.0.1:{port} within 10 s")

    def head(self) -> str:
        """The commit the served branch points at."""
        return _git("rev-parse", self.branch, cwd=self.bare)

    def commit(self, relative: str, content: str, message: str) -> str:
        """Write `relative` in the work tree, commit it and return the new commit's sha."""
        (self.work / relative).write_text(content, encoding="utf-8")
        _git("add", relative, cwd=self.work)
        _git("commit", "-q", "-m", message, cwd=self.work)
        return _git("rev-parse", "HEAD", cwd=self.work)

    def push(self) -> None:
        """Push the branch to the served repository."""
        _git("push", "-q", "origin", self.branch, cwd=self.work)

    def stop(self) -> None:
        """Stop `git daemon` and the children it forked (idempotent)."""
        daemon, self._daemon = self._daemon, None
        if daemon is None:
            return
        _signal_group(daemon.pid, signal.SIGTERM)
        try:
            daemon.wait(timeout=5)
        except subprocess.TimeoutExpired:
            _signal_group(daemon.pid, signal.SIGKILL)
            daemon.wait(timeout=5)
        _signal_group(daemon.pid, signal.SIGKILL)  # children still serving a connection

    def __enter__(self) -> ServedFleetRepository:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
