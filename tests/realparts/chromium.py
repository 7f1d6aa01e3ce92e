"""Debian's headless Chromium, for tests that check what a person's browser shows."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

#: Mark a test module with `pytestmark = NEEDS_CHROMIUM`.
NEEDS_CHROMIUM = [
    pytest.mark.chromium,
    pytest.mark.skipif(not Path(CHROMIUM).exists(),
                       reason="Debian's chromium is not installed (.ci/run installs it: "
                              "apt-get install chromium)"),
]


def run_chromium(profile: Path, *args: str, timeout: float = 90) -> str:
    """Run headless Chromium with a private profile and no background traffic of its own
    choosing; return its standard output (e.g. the DOM with `--dump-dom URL`)."""
    command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               f"--user-data-dir={profile}", *args]
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout
