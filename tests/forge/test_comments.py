"""The sticky review comment against a small GitHub/GitLab comment API stand-in over real HTTP:
the requests a forge would receive, create then update, and one-line errors without the token."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from reconciler.forge.comments import CommentTarget, ForgeError, post_sticky_comment

MARKER = "<!-- edgefleet:review -->"
TOKEN = "s3cr3t-token-value"


class Forge:
    """Comments kept in memory; every request recorded as (method, path, headers, body)."""

    def __init__(self, refuse: int | None = None) -> None:
        self.comments: list[dict[str, Any]] = [{"id": 7, "body": "LGTM from a human"}]
        self.requests: list[tuple[str, str, dict[str, str], Any]] = []
        self.refuse = refuse


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


@pytest.fixture
def forge() -> Iterator[tuple[Forge, str]]:
    state = Forge()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _github(url: str) -> CommentTarget:
    return CommentTarget("github", "acme/fleet", 42, url, TOKEN)


def test_github_creates_one_comment_then_edits_it_in_place(forge: tuple[Forge, str]) -> None:
    state, url = forge
    first = post_sticky_comment(_github(url), f"{MARKER}\nplan A", MARKER)
    second = post_sticky_comment(_github(url), f"{MARKER}\nplan B", MARKER,
                                 status=("abc123", "success", "2 groups change"))
    assert (first.action, second.action) == ("created", "updated")
    assert first.comment_id == second.comment_id
    ours = [c for c in state.comments if MARKER in c["body"]]
    assert [c["body"] for c in ours] == [f"{MARKER}\nplan B"]
    assert state.comments[0]["body"] == "LGTM from a human"  # another comment is never touched
    calls = [(method, path) for method, path, _, _ in state.requests]
    assert calls == [
        ("GET", "/repos/acme/fleet/issues/42/comments"),
        ("POST", "/repos/acme/fleet/issues/42/comments"),
        ("GET", "/repos/acme/fleet/issues/42/comments"),
        ("PATCH", f"/repos/acme/fleet/issues/comments/{first.comment_id}"),
        ("POST", "/repos/acme/fleet/statuses/abc123"),
    ]
    assert all(headers["Authorization"] == f"Bearer {TOKEN}" for _, _, headers, _ in state.requests)
    assert state.requests[-1][3]["context"] == "edgefleet/plan"


def test_gitlab_uses_notes_of_the_merge_request_and_its_token_header(forge: tuple[Forge, str]) -> None:
    state, url = forge
    target = CommentTarget("gitlab", "acme/edge/fleet", 7, url, TOKEN, token_kind="job")
    post_sticky_comment(target, f"{MARKER}\nplan A", MARKER)
    updated = post_sticky_comment(target, f"{MARKER}\nplan B", MARKER)
    assert updated.action == "updated"
    notes = "/projects/acme%2Fedge%2Ffleet/merge_requests/7/notes"
    assert [(m, p) for m, p, _, _ in state.requests] == [
        ("GET", notes), ("POST", notes), ("GET", notes), ("PUT", f"{notes}/{updated.comment_id}")]
    assert all(h.get("JOB-TOKEN") == TOKEN and "Authorization" not in h for _, _, h, _ in state.requests)


def test_a_refusal_is_one_line_with_a_permissions_hint_and_never_the_token(
        forge: tuple[Forge, str]) -> None:
    state, url = forge
    state.refuse = 403
    with pytest.raises(ForgeError) as caught:
        post_sticky_comment(_github(url), f"{MARKER}\nplan", MARKER)
    message = str(caught.value)
    assert "\n" not in message
    assert "403" in message and "pull-requests: write" in message
    assert TOKEN not in message and TOKEN not in repr(_github(url))
    assert [m for m, _, _, _ in state.requests] == ["GET"]  # nothing written after a refusal


def test_an_unreachable_forge_is_a_forge_error() -> None:
    with pytest.raises(ForgeError, match="github: GET /repos/acme/fleet/issues/42/comments"):
        post_sticky_comment(_github("http://127.0.0.1:9"), f"{MARKER}\nplan", MARKER, timeout=2)
