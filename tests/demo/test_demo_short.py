"""`edgefleet demo --short`, as `make demo` runs it but smaller: converges twice, exits 0 and
leaves no process or temporary file behind (also when interrupted)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def start_demo(tmp_path: Path) -> subprocess.Popen[str]:
    # TMPDIR inside tmp_path: every temporary file and process argument of the demo is there.
    env = {**os.environ, "TMPDIR": str(tmp_path), "PYTHONWARNINGS": "ignore", "COLUMNS": "150"}
    return subprocess.Popen([sys.executable, "-m", "reconciler", "demo", "--short"], cwd=REPO_ROOT,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def leftovers(tmp_path: Path) -> tuple[list[str], list[Path]]:
    """Processes whose command line mentions tmp_path (git daemon, ...) and files left in it."""
    processes = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if str(tmp_path) in command:
            processes.append(command)
    return processes, sorted(tmp_path.glob("edgefleet-demo-*"))


def test_the_short_demo_converges_twice_and_cleans_up(tmp_path: Path) -> None:
    demo = start_demo(tmp_path)
    output, _ = demo.communicate(timeout=100)
    assert demo.returncode == 0, output
    assert "first convergence: converged" in output
    assert "convergence after the push of" in output and "did not converge" not in output
    assert "webhook: verified github push" in output
    assert "the controller picked up" in output
    assert "/status" in output
    # The agent step (docs/agent.md): an image evicted by edge GC, seen by its agent, re-pulled.
    assert "4. edge image GC removed" in output and "edgefleet re-pulled" in output
    # The rollout step (docs/rollout.md): two waves named in the live view, then a halt.
    assert "5. rollout of hamburg-displays" in output and "wave 1 of 2 open" in output
    assert "rollout of hamburg-displays halted" in output and "over the failure budget" in output
    # The registry step (docs/registry.md): plan --registry against the simulated registry.
    assert "7. plan --registry against the simulated registry" in output
    assert "held edge/telemetry-agent:1.50 (not-in-registry)" in output
    assert "held vision/inspector:2.5.0 (no-platform)" in output and "bytes to transfer per group: " in output
    # Every numbered step shows up, numbered without gaps (#16 item 6).
    steps = sorted({int(n) for n in re.findall(r"^\[\s*[\d.]+s\] (\d+)\. ", output, re.M)})
    assert len(steps) >= 3 and steps == list(range(1, len(steps) + 1)), output
    assert leftovers(tmp_path) == ([], [])
    # It ends with a drift report that names why pairs are missing, kept where it says.
    page = tmp_path / "edgefleet-drift-report" / "latest.html"
    assert f"drift report written to {page}" in output and "deferred-offline" in output
    assert "<svg" in page.read_text()


@pytest.mark.parametrize(("signum", "code", "said"), [
    pytest.param(signal.SIGINT, 130, "interrupted", id="ctrl-c"),
    pytest.param(signal.SIGTERM, 143, "terminated", id="sigterm"),
])
def test_an_interrupted_demo_cleans_up(tmp_path: Path, signum: signal.Signals, code: int, said: str) -> None:
    demo = start_demo(tmp_path)
    assert demo.stdout is not None
    lines = []
    deadline = time.monotonic() + 60
    for line in demo.stdout:  # wait until the controller runs against the served repository
        lines.append(line)
        if "1. converging" in line or time.monotonic() > deadline:
            break
    assert leftovers(tmp_path)[0], "git daemon runs while the demo does"
    demo.send_signal(signum)
    rest, _ = demo.communicate(timeout=60)
    assert demo.returncode == code, "".join(lines) + rest
    assert said in rest
    assert leftovers(tmp_path) == ([], [])
