"""One sticky comment per pull request, over the forges' REST APIs (a thin httpx adapter).

The comment carries a hidden marker; posting lists the pull request's comments, edits the
first one that carries the marker, and creates one only when none does, so every push updates
the same comment instead of adding one (like Atlantis).

- GitHub: `GET/POST /repos/{owner}/{repo}/issues/{n}/comments`,
  `PATCH /repos/{owner}/{repo}/issues/comments/{id}`, `POST /repos/{owner}/{repo}/statuses/{sha}`
  with `Authorization: Bearer <token>`.
- GitLab: `GET/POST /projects/{id}/merge_requests/{iid}/notes`, `PUT .../notes/{note_id}`,
  `POST /projects/{id}/statuses/{sha}`, with `PRIVATE-TOKEN` (or `JOB-TOKEN` for CI_JOB_TOKEN).

The token is sent in a header only: it is never logged, printed or put in an error message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import quote

import httpx

from reconciler import __version__

Forge = Literal["github", "gitlab"]
_PAGE_SIZE = 100
_MAX_PAGES = 50  # 5,000 comments: far more than any pull request a person reviews
_GITHUB = re.compile(r"^([A-Za-z0-9_.-]+)/([A-Za-z0-9_.-]+)#(\d+)$")
_GITLAB = re.compile(r"^(.+)!(\d+)$")


class ForgeError(Exception):
    """A forge refused or could not be reached; the message is one line without secrets."""


@dataclass(frozen=True, slots=True)
class CommentTarget:
    """A pull request (GitHub) or merge request (GitLab) to comment on."""

    forge: Forge
    project: str  # "owner/repo" (GitHub) or a GitLab project path or numeric id
    number: int
    api_url: str
    token: str
    token_kind: str = "bearer"  # GitLab: "private" (PRIVATE-TOKEN) or "job" (JOB-TOKEN)

    def __repr__(self) -> str:  # never show the token, even in a traceback
        return f"CommentTarget({self.forge}, {self.project}, {self.number}, {self.api_url})"


@dataclass(frozen=True, slots=True)
class PostResult:
    """What posting did: "created" or "updated" comment `comment_id` (a web URL when known)."""

    action: str
    comment_id: int
    url: str | None


def parse_github_target(value: str) -> tuple[str, int]:
    """`owner/repo#123` -> ("owner/repo", 123); raises ValueError with the expected form."""
    match = _GITHUB.match(value.strip())
    if match is None:
        raise ValueError(f"--github {value!r}: expected OWNER/REPO#NUMBER, e.g. acme/fleet#42")
    return f"{match.group(1)}/{match.group(2)}", int(match.group(3))


def parse_gitlab_target(value: str) -> tuple[str, int]:
    """`group/project!7` (or `1234!7`) -> ("group/project", 7); raises ValueError."""
    match = _GITLAB.match(value.strip())
    if match is None:
        raise ValueError(f"--gitlab {value!r}: expected PROJECT!IID, e.g. acme/fleet!7")
    return match.group(1), int(match.group(2))


def post_sticky_comment(target: CommentTarget, body: str, marker: str, *,
                        status: tuple[str, str, str] | None = None,
                        timeout: float = 30.0) -> PostResult:
    """Create or update the one comment carrying `marker` on `target`; with `status`
    (commit sha, "success"|"failure", description) also set the commit status
    `edgefleet/plan`. Raises ForgeError."""
    base_url = target.api_url.rstrip("/")
    with httpx.Client(base_url=base_url, headers=_headers(target), timeout=timeout) as client:
        notes = _comments_path(target)
        existing = _find(client, target, notes, marker)
        if existing is None:
            created = _send(client, target, "POST", notes, {"body": body})
            result = PostResult("created", int(created["id"]), created.get("html_url"))
        else:
            path = (f"/repos/{target.project}/issues/comments/{existing}" if target.forge == "github"
                    else f"{notes}/{existing}")
            method = "PATCH" if target.forge == "github" else "PUT"
            updated = _send(client, target, method, path, {"body": body})
            result = PostResult("updated", int(updated.get("id", existing)), updated.get("html_url"))
        if status is not None:
            _post_status(client, target, *status)
        return result


def _headers(target: CommentTarget) -> dict[str, str]:
    headers = {"User-Agent": f"edgefleet/{__version__}", "Accept": "application/json"}
    if target.forge == "github":
        headers.update({"Authorization": f"Bearer {target.token}", "Accept": "application/vnd.github+json",
                        "X-GitHub-Api-Version": "2022-11-28"})
    else:
        headers["JOB-TOKEN" if target.token_kind == "job" else "PRIVATE-TOKEN"] = target.token
    return headers


def _comments_path(target: CommentTarget) -> str:
    if target.forge == "github":
        return f"/repos/{target.project}/issues/{target.number}/comments"
    return f"/projects/{quote(target.project, safe='')}/merge_requests/{target.number}/notes"


def _find(client: httpx.Client, target: CommentTarget, path: str, marker: str) -> int | None:
    """The id of the oldest comment carrying `marker`, or None."""
    for page in range(1, _MAX_PAGES + 1):
        comments = _send(client, target, "GET", path, None,
                         params={"per_page": _PAGE_SIZE, "page": page, "sort": "asc"}
                         if target.forge == "gitlab" else {"per_page": _PAGE_SIZE, "page": page})
        if not isinstance(comments, list):
            raise ForgeError(f"{target.forge}: GET {path}: expected a list of comments")
        for comment in comments:
            if marker in str(comment.get("body") or ""):
                return int(comment["id"])
        if len(comments) < _PAGE_SIZE:
            return None
    return None


def _post_status(client: httpx.Client, target: CommentTarget, sha: str, state: str, description: str) -> None:
    if target.forge == "github":
        _send(client, target, "POST", f"/repos/{target.project}/statuses/{sha}",
              {"state": state, "context": "edgefleet/plan", "description": description[:140]})
    else:
        _send(client, target, "POST", f"/projects/{quote(target.project, safe='')}/statuses/{sha}",
              {"state": "success" if state == "success" else "failed", "name": "edgefleet/plan",
               "description": description[:140]})


def _send(client: httpx.Client, target: CommentTarget, method: str, path: str,
          payload: dict[str, Any] | None, params: dict[str, Any] | None = None) -> Any:
    try:
        response = client.request(method, path, json=payload, params=params)
    except httpx.HTTPError as error:
        raise ForgeError(f"{target.forge}: {method} {path}: {type(error).__name__}: {error}") from None
    if response.status_code >= 400:
        raise ForgeError(f"{target.forge}: {method} {path}: {response.status_code} "
                         f"{response.reason_phrase}{_message(response)}{_hint(target, response.status_code)}")
    try:
        return response.json()
    except ValueError:
        raise ForgeError(f"{target.forge}: {method} {path}: the answer is not JSON") from None


def _message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    message = body.get("message") if isinstance(body, dict) else None
    return f": {' '.join(str(message).split())[:200]}" if message else ""


def _hint(target: CommentTarget, code: int) -> str:
    if code not in (401, 403):
        return ""
    if target.forge == "github":
        return " (the token needs `pull-requests: write`, and `statuses: write` for --status)"
    return " (the token needs the api scope, the Reporter role for the note and Developer for --status)"
