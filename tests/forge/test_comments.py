"""The sticky review comment against a small GitHub/GitLab comment API stand-in over real HTTP:
the requests a forge would receive, create then update, and one-line errors without the token."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from reconciler.forge.comments import CommentTarget, ForgeError, post_sticky_comment
from tests.forge.standin import HUMAN_COMMENT, Forge, serve_forge

MARKER = "<!-- edgefleet:review -->"
TOKEN = "s3cr3t-token-value"


@pytest.fixture
def forge() -> Iterator[tuple[Forge, str]]:
    with serve_forge() as served:
        yield served


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
    assert state.comments[0]["body"] == HUMAN_COMMENT  # another comment is never touched
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
