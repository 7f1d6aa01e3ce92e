"""Basic auth (htpasswd, bcrypt) behind TLS with a CA the test made, and the Bearer token
dance against a registry that trusts a token server the test runs; secrets never show."""

from __future__ import annotations

import base64
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from reconciler.registry import DockerConfig, RegistryClient, RegistrySettings, inspect_images
from tests.realparts.ocilayout import ImageSpec, push_layout, write_layout
from tests.realparts.registry import (
    RunningRegistry,
    TokenEndpoint,
    make_tls,
    registry_or_skip,
    serve_token_endpoint,
)

from .conftest import PASSWORD, USER, RequestLog, Secured, docker_config


def test_basic_auth_over_tls_with_the_test_ca(basic_tls: Secured) -> None:
    ref = f"{basic_tls.registry.host}/team/app:1"
    with RegistryClient(RegistrySettings(ca_file=str(basic_tls.tls.ca))) as client:
        facts = client.inspect(ref, docker_config(basic_tls.registry.host))
        missing = client.inspect(
            f"{basic_tls.registry.host}/team/app:2", docker_config(basic_tls.registry.host)
        )
    assert facts.exists is True and facts.digest == basic_tls.digest
    assert [p.size_bytes for p in facts.platforms] == [basic_tls.size]
    assert missing.exists is False


@pytest.mark.parametrize(
    "credentials",
    [None, docker_config("127.0.0.1:1"), "wrong"],
    ids=["anonymous", "credentials-for-another-registry", "wrong-password"],
)
def test_without_valid_credentials_the_image_is_unknown_not_missing(
    basic_tls: Secured, credentials: DockerConfig | str | None
) -> None:
    if credentials == "wrong":
        credentials = docker_config(basic_tls.registry.host, password="not-it")
    assert not isinstance(credentials, str)
    with RegistryClient(RegistrySettings(ca_file=str(basic_tls.tls.ca))) as client:
        facts = client.inspect(f"{basic_tls.registry.host}/team/app:1", credentials)
    assert facts.exists is None
    host = basic_tls.registry.host
    assert facts.error == f"registry {host}: access denied (HTTP 401) for {host}/team/app"


def test_tls_is_verified_by_default(basic_tls: Secured) -> None:
    with RegistryClient() as client:  # system roots only: the test CA is unknown
        facts = client.inspect(
            f"{basic_tls.registry.host}/team/app:1", docker_config(basic_tls.registry.host)
        )
    assert facts.exists is None
    assert "CERTIFICATE_VERIFY_FAILED" in (facts.error or "")


def test_a_registry_not_listed_insecure_is_not_spoken_to_over_http(
    registry_tools: None, tmp_path: Path
) -> None:
    # plain is not listed as insecure: the TLS handshake fails, nothing goes over plain HTTP
    with registry_or_skip(tmp_path / "plain") as plain, RegistryClient() as client:
        facts = client.inspect(f"{plain.host}/team/app:1")
    assert facts.exists is None and "did not answer: ConnectError" in (facts.error or "")


def test_secrets_never_reach_logs_errors_or_reprs(
    basic_tls: Secured, caplog: pytest.LogCaptureFixture
) -> None:
    host = basic_tls.registry.host
    wrong = docker_config(host, password=PASSWORD + "-old")
    settings = RegistrySettings(ca_file=str(basic_tls.tls.ca))
    with caplog.at_level(logging.DEBUG), RegistryClient(settings) as client:
        good = inspect_images(client, {f"{host}/team/app:1": docker_config(host)})
        bad = client.inspect(f"{host}/team/app:1-other", wrong)
        texts = [repr(client), repr(docker_config(host)), repr(docker_config(host).for_registry(host))]
        texts += [repr(auth) for auth in client._auths.values()]
    assert next(iter(good.values())).exists is True and bad.exists is None
    texts += [r.getMessage() for r in caplog.records] + [caplog.text, repr(good), repr(bad)]
    encoded = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    assert caplog.records  # httpx logged every request, the adapter its warning
    for text in texts:
        assert PASSWORD not in text and encoded not in text
    assert "password=<hidden>" in texts[2]


@dataclass
class TokenGuarded:
    registry: RunningRegistry
    token: TokenEndpoint
    digest: str


@pytest.fixture(scope="module")
def bearer(registry_tools: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TokenGuarded]:
    base = tmp_path_factory.mktemp("bearer")
    built = write_layout(base / "oci", "1", [ImageSpec("arm64", payload=b"tokened")])
    with (
        serve_token_endpoint(base / "token", {USER: PASSWORD}) as token,
        registry_or_skip(base / "reg", token=token) as registry,
    ):
        for tag in ("1", "2"):
            push_layout(base / "oci", "1", f"{registry.host}/team/app:{tag}", creds=f"{USER}:{PASSWORD}")
        token.requests.clear()
        yield TokenGuarded(registry, token, built.digest)


def test_bearer_token_dance_with_the_registry_s_own_token_server(bearer: TokenGuarded) -> None:
    host = bearer.registry.host
    requests = RequestLog()
    settings = RegistrySettings(insecure=frozenset({host}))
    with RegistryClient(settings, event_hooks={"request": [requests.hook]}) as client:
        facts = inspect_images(
            client,
            {f"{host}/team/app:1": docker_config(host), f"{host}/team/app:2": docker_config(host)},
            max_concurrency=1,
        )
    assert [f.exists for f in facts.values()] == [True, True]
    assert {f.digest for f in facts.values()} == {bearer.digest}
    # one token for the repository, reused for the second tag and the manifests
    assert bearer.token.requests == ["repository:team/app:pull"]
    assert requests.lines.count("GET /token") == 1


def test_bearer_without_credentials_is_unknown(
    bearer: TokenGuarded, caplog: pytest.LogCaptureFixture
) -> None:
    host = bearer.registry.host
    with RegistryClient(RegistrySettings(insecure=frozenset({host}))) as client:
        anonymous = client.inspect(f"{host}/team/app:1")
        wrong = client.inspect(f"{host}/team/app:1", docker_config(host, password="nope"))
    assert anonymous.exists is None and wrong.exists is None
    assert anonymous.error == f"registry {host}: the token endpoint answered HTTP 401"
    assert PASSWORD not in caplog.text


def test_a_token_realm_over_http_is_refused_for_a_tls_registry(registry_tools: None, tmp_path: Path) -> None:
    tls = make_tls(tmp_path / "tls")
    with (
        serve_token_endpoint(tmp_path / "token", {USER: PASSWORD}) as token,
        registry_or_skip(tmp_path / "reg", tls=tls, token=token) as registry,
        RegistryClient(RegistrySettings(ca_file=str(tls.ca))) as client,
    ):
        facts = client.inspect(f"{registry.host}/team/app:1", docker_config(registry.host))
    assert facts.exists is None
    assert (
        facts.error == f"registry {registry.host}: the registry named a token realm over plain HTTP; refused"
    )
    assert token.requests == []  # the credentials were not sent over plain HTTP
