"""Digests, platforms and sizes, read from a real registry holding images the test pushed."""

from __future__ import annotations

import msgspec

from reconciler.registry import ImageFacts, RegistryClient
from tests.realparts.ocilayout import ImageSpec, push_layout, write_layout

from .conftest import FakeClock, Pushed, RequestLog


def test_multi_arch_index_gives_every_platform_with_its_layer_bytes(
    client: RegistryClient, pushed: Pushed
) -> None:
    facts = client.inspect(pushed.ref("test/multi:1"))
    assert facts.exists is True and facts.error is None
    assert facts.digest == pushed.multi.digest
    assert facts.media_type == "application/vnd.oci.image.index.v1+json"
    assert [(p.os, p.architecture, p.variant, p.digest, p.size_bytes) for p in facts.platforms] == [
        ("linux", m.spec.architecture, m.spec.variant, m.digest, sum(m.layer_sizes))
        for m in pushed.multi.manifests
    ]
    arm = facts.platform_for("linux", "arm64")
    assert arm is not None and arm.variant == "v8"
    assert facts.platform_for("linux", "arm64", "v8") == arm
    assert facts.platform_for("linux", "s390x") is None
    assert facts.platform_for("windows", "amd64") is None


def test_single_manifest_takes_its_platform_from_the_config(client: RegistryClient, pushed: Pushed) -> None:
    facts = client.inspect(pushed.ref("test/single:1"))
    (only,) = pushed.single.manifests
    assert facts.exists is True
    assert facts.digest == pushed.single.digest == only.digest
    assert facts.media_type == "application/vnd.oci.image.manifest.v1+json"
    assert [(p.os, p.architecture, p.variant, p.size_bytes) for p in facts.platforms] == [
        ("linux", "amd64", None, sum(only.layer_sizes))
    ]
    assert sum(only.layer_sizes) > 7000  # the random payload, not compressible


def test_docker_schema2_media_types_are_read_too(client: RegistryClient, pushed: Pushed) -> None:
    facts = client.inspect(pushed.ref("test/docker:1"))
    assert facts.exists is True
    assert facts.digest == pushed.docker
    assert facts.media_type == "application/vnd.docker.distribution.manifest.v2+json"
    assert [(p.architecture, p.variant) for p in facts.platforms] == [("arm", "v7")]
    assert facts.platforms[0].size_bytes > 1000


def test_missing_tag_and_missing_repository_do_not_exist(client: RegistryClient, pushed: Pushed) -> None:
    tag = client.inspect(pushed.ref("test/multi:1-typo"))
    repository = client.inspect(pushed.ref("test/nothing:1"))
    assert (tag.exists, tag.digest, tag.platforms) == (False, None, ())
    assert tag.error == f"tag '1-typo' not found in {pushed.ref('test/multi')}"
    assert repository.exists is False


def test_a_digest_reference_is_checked_by_digest(client: RegistryClient, pushed: Pushed) -> None:
    by_digest = client.inspect(pushed.ref(f"test/multi@{pushed.multi.digest}"))
    assert by_digest.exists is True and by_digest.digest == pushed.multi.digest
    assert len(by_digest.platforms) == 2
    absent = "sha256:" + "0" * 64
    assert client.inspect(pushed.ref(f"test/multi@{absent}")).exists is False
    # a digest of another repository is not in this one
    assert client.inspect(pushed.ref(f"test/single@{pushed.multi.digest}")).exists is False


def test_second_resolve_makes_no_request_and_after_the_ttl_one_head(
    client: RegistryClient, pushed: Pushed, requests: RequestLog, clock: FakeClock
) -> None:
    first = client.inspect(pushed.ref("test/multi:1"))
    assert requests.lines[0] == "HEAD /v2/test/multi/manifests/1"
    assert len(requests.lines) == 4  # HEAD, the index, two platform manifests
    requests.lines.clear()
    assert client.inspect(pushed.ref("test/multi:1")) == first
    assert requests.lines == []
    clock.now += 61  # the tag answer expires; what the digest holds does not
    assert client.inspect(pushed.ref("test/multi:1")) == first
    assert requests.lines == ["HEAD /v2/test/multi/manifests/1"]


def test_a_missing_tag_is_cached_too(client: RegistryClient, pushed: Pushed, requests: RequestLog) -> None:
    for _ in range(3):
        assert client.inspect(pushed.ref("test/multi:nope")).exists is False
    assert requests.lines == ["HEAD /v2/test/multi/manifests/nope"]


def test_a_tag_that_moves_is_seen_after_the_ttl(
    client: RegistryClient, pushed: Pushed, requests: RequestLog, clock: FakeClock
) -> None:
    moving = pushed.ref("test/moving:stable")
    push_layout(pushed.layout, "single", moving)
    before = client.inspect(moving)
    assert before.digest == pushed.single.digest
    moved = write_layout(pushed.layout, "moved", [ImageSpec("arm64", payload=b"v2 of the app")])
    push_layout(pushed.layout, "moved", moving)
    assert client.inspect(moving).digest == before.digest  # within the TTL: the cached answer
    clock.now += 61
    after = client.inspect(moving)
    assert after.digest == moved.digest != before.digest
    assert [p.architecture for p in after.platforms] == ["arm64"]


def test_facts_are_plain_json_for_plans_and_reports(client: RegistryClient, pushed: Pushed) -> None:
    facts = client.inspect(pushed.ref("test/single:1"))
    document = msgspec.json.decode(msgspec.json.encode(facts))
    assert sorted(document) == ["digest", "error", "exists", "mediaType", "platforms", "reference"]
    assert sorted(document["platforms"][0]) == ["architecture", "digest", "os", "sizeBytes", "variant"]
    assert msgspec.json.decode(msgspec.json.encode(facts), type=ImageFacts) == facts
