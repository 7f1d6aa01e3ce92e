"""The change the demo commits (an image bump in one group) and the signed webhook announcing it."""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import orjson

from reconciler.controller.webhook import sign_github

# A list item that is a tagged image with a semantic version: `- registry/x:1.2.3`.
_IMAGE_LINE = re.compile(r"^(?P<lead>\s*-\s+(?:image:\s*)?)(?P<repo>[\w./-]+(?::\d+)?/?[\w./-]*)"
                         r":(?P<major>\d+)\.(?P<minor>\d+)\.(?P<patch>\d+)(?P<tail>\s*(?:#.*)?)$")
_NAME_LINE = re.compile(r"^\s+name:\s*(?P<name>[\w.-]+)\s*$")


@dataclass(frozen=True, slots=True)
class ImageBump:
    """One edited line: `old` -> `new` in `path` (relative to the work tree), in `group`."""

    path: str
    group: str
    old: str
    new: str
    content: str  # the whole new file


def find_bump(work_tree: Path, directory: str = "groups") -> ImageBump:
    """The first `image:x.y.z` listed directly by a group, bumped to x.y.(z+1); the rest of the
    file is kept byte for byte (comments included). Files are tried in reverse path order:
    group files named after sites sort last and tend to be small, so the change is quick.

    Raises LookupError when no group lists a versioned image of its own.
    """
    for file in sorted((work_tree / directory).glob("*.y*ml"), reverse=True):
        lines = file.read_text(encoding="utf-8").splitlines(keepends=True)
        group = ""
        for index, line in enumerate(lines):
            if line.startswith("---"):
                group = ""
            named = _NAME_LINE.match(line)
            if named and not group:
                group = named["name"]
            found = _IMAGE_LINE.match(line.rstrip("\n"))
            if not found or not group:
                continue
            old = f"{found['repo']}:{found['major']}.{found['minor']}.{found['patch']}"
            new = f"{found['repo']}:{found['major']}.{found['minor']}.{int(found['patch']) + 1}"
            lines[index] = line.replace(old, new, 1)
            return ImageBump(str(file.relative_to(work_tree)), group, old, new, "".join(lines))
    raise LookupError(f"no group in {work_tree / directory} lists a versioned image to bump")


def send_push_webhook(base_url: str, secret: bytes, *, branch: str, revision: str) -> int:
    """POST a GitHub-style signed push event to `base_url`/hooks/git; returns the HTTP status."""
    body = orjson.dumps({"ref": f"refs/heads/{branch}", "after": revision,
                         "repository": {"name": "fleet"}})
    headers = {"Content-Type": "application/json", **sign_github(secret, body)}
    request = urllib.request.Request(f"{base_url}/hooks/git", data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)
