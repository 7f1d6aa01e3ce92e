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
                             "--agents", "none", "--kubeconfig-out", str(kubeconfig)],
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


def test_serve_with_agents_shows_their_reports_to_kubectl(tmp_path: Path) -> None:
    kubeconfig = tmp_path / "sim.kubeconfig"
    # 50 % of 4 nodes run an agent; at x600 their first poll (within 60 simulated s) is quick.
    proc = subprocess.Popen([str(EDGEFLEET), "sim", "serve", "--nodes", "4", "--speed", "600",
                             "--agents", "50%", "--kubeconfig-out", str(kubeconfig)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        complete: list[str] = []
        while proc.poll() is None and time.monotonic() < deadline and len(complete) < 2:
            time.sleep(0.2)
            if not kubeconfig.exists():
                continue
            got = subprocess.run([str(KUBECTL), "--kubeconfig", str(kubeconfig), "get", "edgenodeinventories",
                                  "-o", "jsonpath={.items[*].status.agent.complete}"],
                                 capture_output=True, text=True, timeout=30, check=False)
            complete = got.stdout.split()
        assert complete == ["true", "true"]
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0
    assert "2 edge inventory agents" in out


def test_bad_agents_option_is_a_usage_error(tmp_path: Path) -> None:
    done = subprocess.run([str(EDGEFLEET), "sim", "serve", "--agents", "some",
                           "--kubeconfig-out", str(tmp_path / "k")],
                          capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 2
    assert done.stderr.strip() == ("error: --agents must be none, all or a percentage from 0% to 100%, "
                                   "not 'some'")
