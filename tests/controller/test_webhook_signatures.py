"""Webhook signatures of GitHub, Gitea and GitLab, verified in constant time."""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

import pytest

from reconciler.controller.webhook import read_secret, sign_github, verify

SECRET = b"s3cret-value"
BODY = b'{"ref":"refs/heads/main","after":"abc"}'
GOOD_HEX = hmac.new(SECRET, BODY, hashlib.sha256).hexdigest()
OTHER_HEX = hmac.new(b"another", BODY, hashlib.sha256).hexdigest()


@pytest.mark.parametrize(
    ("headers", "ok", "forge"),
    [
        pytest.param({"X-Hub-Signature-256": f"sha256={GOOD_HEX}"}, True, "github", id="github-good"),
        pytest.param({"x-hub-signature-256": f"sha256={GOOD_HEX}"}, True, "github",
                     id="github-lowercase-header"),
        pytest.param({"X-Hub-Signature-256": f"sha256={OTHER_HEX}"}, False, "github",
                     id="github-wrong-secret"),
        pytest.param({"X-Hub-Signature-256": GOOD_HEX}, False, "github", id="github-missing-prefix"),
        pytest.param({"X-Hub-Signature-256": ""}, False, "github", id="github-empty"),
        pytest.param({"X-Gitea-Signature": GOOD_HEX}, True, "gitea", id="gitea-good"),
        pytest.param({"X-Gitea-Signature": OTHER_HEX}, False, "gitea", id="gitea-wrong-secret"),
        pytest.param({"X-Gitlab-Token": SECRET.decode()}, True, "gitlab", id="gitlab-good"),
        pytest.param({"X-Gitlab-Token": "s3cret-valuX"}, False, "gitlab", id="gitlab-wrong-token"),
        pytest.param({"X-Hub-Signature": "sha1=" + "0" * 40}, False, None, id="github-sha1-only-refused"),
        pytest.param({}, False, None, id="unsigned"),
    ],
)
def test_verify(headers: dict[str, str], ok: bool, forge: str | None) -> None:
    verdict = verify(headers, BODY, SECRET)
    assert (verdict.ok, verdict.forge) == (ok, forge)
    assert SECRET.decode() not in verdict.reason


def test_a_signature_of_another_body_is_refused() -> None:
    headers = {"X-Hub-Signature-256": f"sha256={GOOD_HEX}"}
    assert not verify(headers, BODY + b" ", SECRET).ok


def test_no_secret_refuses_everything() -> None:
    assert not verify({"X-Gitlab-Token": ""}, BODY, b"").ok


def test_sign_github_round_trips() -> None:
    assert verify(sign_github(SECRET, BODY), BODY, SECRET).ok


def test_read_secret_strips_the_newline(tmp_path: Path) -> None:
    path = tmp_path / "secret"
    path.write_bytes(SECRET + b"\n")
    assert read_secret(path) == SECRET


@pytest.mark.parametrize("content", [pytest.param(b"", id="empty"), pytest.param(b" \n", id="blank")])
def test_read_secret_refuses_an_empty_file_without_showing_content(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "secret"
    path.write_bytes(content)
    with pytest.raises(ValueError, match="empty"):
        read_secret(path)


def test_read_secret_names_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="cannot read the webhook secret"):
        read_secret(tmp_path / "absent")
