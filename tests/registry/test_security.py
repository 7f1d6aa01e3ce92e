"""References and credentials that must never reach a request, a log line or an error."""

from __future__ import annotations

import logging

import pytest

from reconciler.registry import Credentials, DockerConfig, DockerConfigError, RegistryClient, inspect_images

from .conftest import Pushed, RequestLog


@pytest.mark.parametrize(
    "reference",
    [
        "user:hunter2@127.0.0.1:5000/app:1",
        "https://127.0.0.1:5000/app:1",
        "http://127.0.0.1:5000/app:1",
        "ftp://127.0.0.1/app:1",
        "file:///etc/passwd",
        "127.0.0.1:5000/app:1;curl evil",
    ],
    ids=["userinfo", "https-scheme", "http-scheme", "ftp-scheme", "file-scheme", "shell"],
)
def test_bad_references_are_refused_before_any_request(
    client: RegistryClient, requests: RequestLog, reference: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="reconciler.registry"):
        facts = inspect_images(client, [reference])[reference]
    assert facts.exists is None
    assert facts.error is not None and facts.error.startswith("refused: invalid image reference: ")
    assert requests.lines == []
    assert "hunter2" not in (facts.error or "") and "hunter2" not in facts.reference
    assert "hunter2" not in caplog.text


def test_docker_config_forms_and_hidden_passwords() -> None:
    config = DockerConfig.from_json(
        b'{"auths": {"https://index.docker.io/v1/": {"auth": "dXNlcjpodW50ZXIy"},'
        b' "Reg.Example.com:5000": {"username": "robot", "password": "tok3n"},'
        b' "helper.example.com": {}}}'
    )
    assert config.for_registry("docker.io") == Credentials("user", "hunter2")
    assert config.for_registry("reg.example.com:5000") == Credentials("robot", "tok3n")
    assert config.for_registry("helper.example.com") is None
    for text in (repr(config), str(config), repr(config.for_registry("docker.io")), repr(config.auths)):
        assert "hunter2" not in text and "tok3n" not in text and "dXNlcjpodW50ZXIy" not in text


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            b'{"auths": {"x": {"auth": "hunter2-not-base64!"}}}',
            'an "auth" value is not base64 of user:password',
        ),
        (b'{"auths": {"x": {"auth": "aHVudGVyMg=="}}}', 'an "auth" value is not base64 of user:password'),
        (b'{"auths": hunter2}', "docker config is not valid JSON"),
        (b'{"auths": ["hunter2"]}', 'docker config has no "auths" mapping'),
    ],
    ids=["not-base64", "no-colon", "not-json", "auths-not-a-mapping"],
)
def test_docker_config_errors_never_quote_the_content(content: bytes, message: str) -> None:
    with pytest.raises(DockerConfigError) as raised:
        DockerConfig.from_json(content)
    assert str(raised.value) == message
    assert raised.value.__cause__ is None  # `from None`: no chained error quoting the input
    assert "hunter2" not in repr(raised.value) and "aHVudGVyMg" not in repr(raised.value)


def test_credentials_are_sent_only_to_their_registry(pushed: Pushed, client: RegistryClient) -> None:
    # The plain test registry needs no auth: the credentials for another host are not used,
    # and those for this host are never asked for (anonymous access works).
    config = DockerConfig.from_json(
        b'{"auths": {"elsewhere.example.com": {"username": "u", "password": "p"}}}'
    )
    assert client.inspect(pushed.ref("test/single:1"), config).exists is True
    assert [key[1] for key in client._auths] == [None]


@pytest.mark.parametrize(
    ("reference", "userinfo"),
    [
        ("user:pw@reg.example.com/app:1", True),
        ("https://user:pw@reg.example.com/app:1", True),
        ("user:pw@nginx", True),
        ("nginx@sha256:" + "a" * 64, False),
        ("reg.example.com/app@sha256:" + "a" * 64, False),
        ("reg.example.com/app:1", False),
    ],
)
def test_what_counts_as_credentials_in_a_reference(reference: str, userinfo: bool) -> None:
    from reconciler.registry.client import _has_userinfo, _redacted

    assert _has_userinfo(reference) is userinfo
    if userinfo:
        assert "pw" not in _redacted(reference) and "<redacted>@" in _redacted(reference)
