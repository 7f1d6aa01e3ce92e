"""`edgefleet sim serve` runs standalone, writes a kubeconfig kubectl can use, stops on SIGTERM."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

KUBECTL = Path(sys.executable).parent / "kubectl"
EDGEFLEET = Path(sys.executable).parent / "edgefleet"


def test_serve_until_sigterm(tmp_path: Path) -> None:
    kubeconfig = tmp_path / "sim.kubeconfig"
    proc = subprocess.Popen([str(EDGEFLEET), "sim", "serve", "--nodes", "6", "--speed", "10",
                             "--kubeconfig-out", str(kubeconfig)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while not kubeconfig.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert kubeconfig.exists(), proc.stderr.read() if proc.stderr else ""
        got = subprocess.run([str(KUBECTL), "--kubeconfig", str(kubeconfig), "get", "nodes",
                              "-l", "node-role.kubernetes.io/edge", "-o", "name"],
                             capture_output=True, text=True, timeout=30, check=True)
        assert len(got.stdout.split()) == 6
        # edgefleet's own CRD is served from the start: no `sync --install-crds` needed first.
        inventories = subprocess.run([str(KUBECTL), "--kubeconfig", str(kubeconfig), "get",
                                      "edgenodeinventories", "-o", "name"],
                                     capture_output=True, text=True, timeout=30, check=False)
        assert inventories.returncode == 0, inventories.stderr
        assert inventories.stdout == ""
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0
    assert f"kubectl --kubeconfig {kubeconfig} get nodes" in out


def test_unknown_release_is_a_usage_error(tmp_path: Path) -> None:
    done = subprocess.run([str(EDGEFLEET), "sim", "serve", "--kubeedge", "1.12",
                           "--kubeconfig-out", str(tmp_path / "k")],
                          capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 2
    assert done.stderr.strip() == "error: --kubeedge must be one of 1.21, 1.16, not '1.12'"
