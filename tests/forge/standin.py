"""A small GitHub/GitLab comment API stand-in on 127.0.0.1 (real HTTP), shared by the forge
adapter tests and the `edgefleet review` CLI tests.

It answers the endpoints `edgefleet review` calls: list, create and edit comments (GitHub
issue comments, GitLab merge-request notes) and create a commit status, keeping comments and
statuses in memory and recording every request as (method, path, headers, body).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

HUMAN_COMMENT = "LGTM from a human"


class Forge:
    """Comments and statuses kept in memory; every request recorded."""

    def __init__(self, refuse: int | None = None) -> None:
        self.comments: list[dict[str, Any]] = [{"id": 7, "body": HUMAN_COMMENT}]
        self.statuses: list[dict[str, Any]] = []  # each with the "sha" it was set on
        self.requests: list[tuple[str, str, dict[str, str], Any]] = []
        self.refuse = refuse

    def writes(self) -> list[tuple[str, str]]:
        """(method, path) of every request that is not a GET."""
        return [(m, p) for m, p, _, _ in self.requests if m != "GET"]


def _handler(forge: Forge) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _answer(self, code: int, body: Any) -> None:
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            payload = json.loads(self.rfile.read(length)) if length else None
            url = urlsplit(self.path)
            forge.requests.append((self.command, url.path, dict(self.headers), payload))
            if forge.refuse is not None:
                self._answer(forge.refuse, {"message": "Resource not accessible by integration"})
                return
            if self.command == "GET":
                page = int(parse_qs(url.query).get("page", ["1"])[0])
                self._answer(200, forge.comments if page == 1 else [])
            elif self.command == "POST" and "/statuses/" in url.path:
                forge.statuses.append({**payload, "sha": url.path.rsplit("/", 1)[1]})
                self._answer(201, {"state": payload["state"]})
            elif self.command == "POST":
                comment = {"id": 100 + len(forge.comments), "body": payload["body"]}
                forge.comments.append(comment)
                self._answer(201, comment)
            else:  # PATCH (GitHub) or PUT (GitLab) of one comment
                wanted = int(url.path.rsplit("/", 1)[1])
                for comment in forge.comments:
                    if comment["id"] == wanted:
                        comment["body"] = payload["body"]
                        self._answer(200, comment)
                        return
                self._answer(404, {"message": "Not Found"})

        do_GET = do_POST = do_PATCH = do_PUT = _handle

    return Handler


@contextmanager
def serve_forge() -> Iterator[tuple[Forge, str]]:
    """Serve a fresh stand-in; yields its state and its base URL (http://127.0.0.1:<port>)."""
    state = Forge()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
