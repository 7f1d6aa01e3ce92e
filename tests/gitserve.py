"""Real git servers for tests: `git daemon` and `git http-backend` behind a small HTTP bridge.

Any test area can serve a directory of repositories:

    with serve_git_daemon(base) as url:        # git://127.0.0.1:<port>
        Repository.open(f"{url}/fleet.git")
    with serve_git_http(base) as url:          # http://127.0.0.1:<port>
        ...
"""

import base64
import hmac
import os
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


def free_port() -> int:
    """A port on 127.0.0.1 that was free a moment ago (for servers that cannot bind port 0)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def closed_port_url(scheme: str = "git") -> str:
    """A URL of a port nothing listens on: fetching it fails at once with 'connection refused'."""
    return f"{scheme}://127.0.0.1:{free_port()}/nothing.git"


def _wait_until_accepting(port: int, process: subprocess.Popen[bytes], deadline: float) -> None:
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"git daemon exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.02)
    raise RuntimeError(f"git daemon did not listen on port {port}")


@contextmanager
def serve_git_daemon(base_path: Path) -> Iterator[str]:
    """Serve every repository under ``base_path`` read-only with `git daemon`; yields git://host:port.

    A repository ``base_path/fleet.git`` is then at ``<url>/fleet.git``.
    """
    port = free_port()
    command = [
        "git", "daemon", "--reuseaddr", f"--base-path={base_path}", "--export-all",
        f"--port={port}", "--listen=127.0.0.1", str(base_path),
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_until_accepting(port, process, time.monotonic() + 10)
        yield f"git://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


def _http_backend() -> str:
    exec_path = subprocess.run(["git", "--exec-path"], capture_output=True, text=True, check=True)
    return str(Path(exec_path.stdout.strip()) / "git-http-backend")


def _bridge(
    base_path: Path, backend: str, credentials: tuple[str, str] | None
) -> type[BaseHTTPRequestHandler]:
    expected = None
    if credentials is not None:
        expected = "Basic " + base64.b64encode(":".join(credentials).encode()).decode()

    class GitHttpBridge(BaseHTTPRequestHandler):
        """Runs git-http-backend as a CGI program for each request (smart HTTP protocol)."""

        def do_GET(self) -> None:
            self._run_backend()

        def do_POST(self) -> None:
            self._run_backend()

        def log_message(self, format: str, *args: object) -> None:  # quiet test output
            pass

        def _run_backend(self) -> None:
            given = self.headers.get("Authorization", "")
            if expected is not None and not hmac.compare_digest(given.encode(), expected.encode()):
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Basic realm="git"')
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            path, _, query = self.path.partition("?")
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            env = {
                "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                "GIT_PROJECT_ROOT": str(base_path),
                "GIT_HTTP_EXPORT_ALL": "1",
                "GATEWAY_INTERFACE": "CGI/1.1",
                "REQUEST_METHOD": self.command,
                "PATH_INFO": path,
                "QUERY_STRING": query,
                "CONTENT_TYPE": self.headers.get("Content-Type", ""),
                "CONTENT_LENGTH": str(length),
                "REMOTE_ADDR": self.client_address[0],
            }
            if self.headers.get("Git-Protocol"):
                env["GIT_PROTOCOL"] = self.headers["Git-Protocol"]
            result = subprocess.run([backend], input=body, env=env, capture_output=True, check=False)
            head, _, payload = result.stdout.partition(b"\r\n\r\n")
            if not _:
                head, _, payload = result.stdout.partition(b"\n\n")
            status, headers = 200, []
            for line in head.decode("latin-1").splitlines():
                name, _, value = line.partition(":")
                if name.lower() == "status":
                    status = int(value.split()[0])
                elif name:
                    headers.append((name, value.strip()))
            self.send_response(status)
            for name, value in headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    return GitHttpBridge


@contextmanager
def serve_git_http(base_path: Path, credentials: tuple[str, str] | None = None) -> Iterator[str]:
    """Serve every repository under ``base_path`` over smart HTTP; yields http://host:port.

    With ``credentials=(user, password)`` every request needs that HTTP basic auth (else 401).
    """
    server = ThreadingHTTPServer(("127.0.0.1", 0), _bridge(base_path, _http_backend(), credentials))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
