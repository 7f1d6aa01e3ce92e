"""Push webhooks from git forges: who signed the request, is it ours, and is it a push.

Three forges, three schemes (all compared in constant time with `hmac.compare_digest`):
- GitHub: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(secret, body)>`;
- Gitea (and Forgejo): `X-Gitea-Signature: <hex HMAC-SHA256(secret, body)>`;
- GitLab: `X-Gitlab-Token: <secret>` (a shared token, not a signature).

Verification is pure (the secret and the request are parameters); only `read_secret` touches
a file. The secret is never part of a verdict, a message or a log line.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Forge = Literal["github", "gitea", "gitlab"]

#: A push payload is a few kilobytes; refuse anything far larger before reading it.
MAX_BODY_BYTES = 1 << 20


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether a request is authentic; `forge` says which scheme matched, `reason` why not."""

    ok: bool
    forge: Forge | None
    reason: str


def _hmac_hex(secret: bytes, body: bytes) -> str:
    return hmac.new(secret, body, hashlib.sha256).hexdigest()


def _header(headers: Mapping[str, str], name: str) -> str | None:
    # HTTP header names are case-insensitive; callers may pass a plain dict.
    lowered = name.lower()
    for key, value in headers.items():
        if key.lower() == lowered:
            return value
    return None


def verify(headers: Mapping[str, str], body: bytes, secret: bytes) -> Verdict:
    """Check a webhook request against the shared secret.

    Reads the signature headers of the three forges, in the order GitHub, Gitea, GitLab; the
    first one present decides. Returns a refusal when none is present, when the secret is
    empty, or when the signature does not match.
    """
    if not secret:
        return Verdict(False, None, "no webhook secret is configured")
    github = _header(headers, "X-Hub-Signature-256")
    if github is not None:
        expected = "sha256=" + _hmac_hex(secret, body)
        ok = hmac.compare_digest(expected.encode(), github.strip().encode())
        return Verdict(ok, "github", "" if ok else "X-Hub-Signature-256 does not match")
    gitea = _header(headers, "X-Gitea-Signature")
    if gitea is not None:
        ok = hmac.compare_digest(_hmac_hex(secret, body).encode(), gitea.strip().encode())
        return Verdict(ok, "gitea", "" if ok else "X-Gitea-Signature does not match")
    gitlab = _header(headers, "X-Gitlab-Token")
    if gitlab is not None:
        ok = hmac.compare_digest(secret, gitlab.encode())
        return Verdict(ok, "gitlab", "" if ok else "X-Gitlab-Token does not match")
    return Verdict(False, None, "unsigned request (no X-Hub-Signature-256, X-Gitea-Signature "
                   "or X-Gitlab-Token header)")


def sign_github(secret: bytes, body: bytes) -> dict[str, str]:
    """The headers GitHub would send for `body` (for the demo and tests)."""
    return {"X-Hub-Signature-256": "sha256=" + _hmac_hex(secret, body),
            "X-GitHub-Event": "push"}


#: The header that names the event, per forge (Forgejo and Gogs send their own names too).
EVENT_HEADERS: dict[Forge, tuple[str, ...]] = {
    "github": ("X-GitHub-Event",),
    "gitea": ("X-Gitea-Event", "X-Forgejo-Event", "X-Gogs-Event"),
    "gitlab": ("X-Gitlab-Event",),
}
#: Events that mean "a ref moved": fetch now. GitLab has no ping; a tag push moves a ref too.
PUSH_EVENTS: dict[Forge, frozenset[str]] = {
    "github": frozenset({"push"}),
    "gitea": frozenset({"push"}),
    "gitlab": frozenset({"Push Hook", "Tag Push Hook"}),
}
PING_EVENTS: dict[Forge, frozenset[str]] = {"github": frozenset({"ping"}), "gitea": frozenset(),
                                            "gitlab": frozenset()}
#: An event name longer than this is cut in logs and metric labels (it comes from the sender).
MAX_EVENT_CHARS = 64

EventKind = Literal["push", "ping", "ignored"]


def event_of(headers: Mapping[str, str], forge: Forge) -> str:
    """The event `forge` says it sends ('' without an event header)."""
    for name in EVENT_HEADERS[forge]:
        value = _header(headers, name)
        if value is not None:
            return value.strip()[:MAX_EVENT_CHARS]
    return ""


def event_kind(forge: Forge, event: str) -> EventKind:
    """What a verified request asks for: a fetch (push), a 200 (ping), or nothing (any other
    event, also a request without an event header: issues, pull requests, releases, ...)."""
    if event in PUSH_EVENTS[forge]:
        return "push"
    if event in PING_EVENTS[forge]:
        return "ping"
    return "ignored"


def read_secret(path: Path) -> bytes:
    """The webhook secret stored in `path`, without surrounding whitespace.

    Raises ValueError (naming the file, never its content) when it is empty or unreadable.
    """
    try:
        secret = path.read_bytes().strip()
    except OSError as exc:
        raise ValueError(f"{path}: cannot read the webhook secret ({exc.strerror})") from None
    if not secret:
        raise ValueError(f"{path}: the webhook secret file is empty")
    return secret
