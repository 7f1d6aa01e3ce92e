"""`edgefleet sim serve --registry-port` serves the simulated registry next to the cluster."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

EDGEFLEET = Path(sys.executable).parent / "edgefleet"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_sim_serve_serves_the_catalogue_over_the_distribution_api(tmp_path: Path) -> None:
    kubeconfig, port = tmp_path / "sim.kubeconfig", free_port()
    proc = subprocess.Popen([str(EDGEFLEET), "sim", "serve", "--nodes", "3", "--agents", "none",
                             "--registry-port", str(port), "--kubeconfig-out", str(kubeconfig)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while not kubeconfig.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert kubeconfig.exists(), proc.stderr.read() if proc.stderr else ""
        head = httpx.head(f"http://127.0.0.1:{port}/v2/vision/inspector/manifests/2.5.0")
        assert head.status_code == 200 and head.headers["Docker-Content-Digest"].startswith("sha256:")
        assert httpx.head(f"http://127.0.0.1:{port}/v2/vision/inspector/manifests/2.5.9").status_code == 404
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0
    assert f"simulated registry at 127.0.0.1:{port} (plain HTTP)" in out
