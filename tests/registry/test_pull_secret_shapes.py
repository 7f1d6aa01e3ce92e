"""The two shapes a pull secret's `.dockerconfigjson` comes in (#12), and the fallback order:
the group's secret first, then `--docker-config`. Pure parsing; no registry needed."""

from __future__ import annotations

import base64
import json

import pytest

from reconciler.registry import DockerConfig

REG, OTHER = "reg.example.com:5000", "other.example.com"


def auth(user: str, password: str) -> str:
    return base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.mark.parametrize(("document", "registry", "expected"), [
    pytest.param({"auths": {f"https://{REG}": {"auth": auth("a", "pa")}}}, REG, "a", id="standard"),
    pytest.param({"auths": {REG: {"username": "a", "password": "pa"}}}, OTHER, None,
                 id="standard-other-host-nothing"),
    pytest.param({"username": "k", "password": "pk"}, OTHER, "k", id="kubeedge-authconfig-any-registry"),
    pytest.param({"auth": auth("k", "pk")}, REG, "k", id="kubeedge-authconfig-auth-field"),
    pytest.param({"username": "k", "password": "pk", "serveraddress": f"https://{REG}"}, REG, "k",
                 id="kubeedge-authconfig-for-its-server"),
    pytest.param({"username": "k", "password": "pk", "serveraddress": REG}, OTHER, None,
                 id="kubeedge-authconfig-not-for-another-server"),
    pytest.param({}, REG, None, id="empty"),
])
def test_which_user_a_registry_gets(document: dict[str, object], registry: str, expected: str | None) -> None:
    found = DockerConfig.from_json(json.dumps(document)).for_registry(registry)
    assert (found.username if found is not None else None) == expected


def test_the_secret_comes_first_then_the_docker_config_file() -> None:
    secret = DockerConfig.from_json(
        json.dumps({"auths": {REG: {"auth": auth("from-secret", "S3cret-pass")}}}))
    file = DockerConfig.from_json(json.dumps({"auths": {REG: {"auth": auth("from-file", "F1le-pass")},
                                                        OTHER: {"auth": auth("file-only", "f")}}}))
    both = secret.before(file)
    assert [c.username if c else None for c in (both.for_registry(REG), both.for_registry(OTHER),
                                                both.for_registry("third.example.com"))] == [
        "from-secret", "file-only", None]
    assert "S3cret-pass" not in repr(both) and "F1le-pass" not in repr(both)
