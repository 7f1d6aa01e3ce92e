"""The documents of a simulated image: digests are the hashes of the bytes served, sizes add
up to the catalogue's, one platform is a plain manifest, more are an index."""

from __future__ import annotations

import json

from reconciler.sim.oci.content import OCI_INDEX, OCI_MANIFEST, build_content, sha256


def test_a_multi_arch_image_is_an_index_whose_digests_hash_the_bytes() -> None:
    content = build_content("library/nginx:1.27", 70_000_000, ("amd64", "arm64"))
    assert content.media_type == OCI_INDEX
    for digest, (_, body) in content.manifests.items():
        assert sha256(body) == digest
    index = json.loads(content.body)
    assert [(m["platform"]["architecture"], m["platform"].get("variant")) for m in index["manifests"]] == [
        ("amd64", None), ("arm64", "v8")]
    for entry in index["manifests"]:
        _, body = content.manifests[entry["digest"]]
        assert entry["size"] == len(body)
        manifest = json.loads(body)
        assert sum(layer["size"] for layer in manifest["layers"]) == 70_000_000
        config = content.blobs[manifest["config"]["digest"]]
        assert config.body is not None and sha256(config.body) == config.digest
        assert json.loads(config.body)["architecture"] == entry["platform"]["architecture"]


def test_a_single_platform_image_is_one_manifest() -> None:
    content = build_content("vision/inspector:2.5.0", 641_728_512, ("amd64",))
    assert content.media_type == OCI_MANIFEST and list(content.manifests) == [content.digest]
    config = content.blobs[json.loads(content.body)["config"]["digest"]]
    assert json.loads(config.body or b"{}")["architecture"] == "amd64"


def test_the_same_inputs_give_the_same_digest_and_any_change_another() -> None:
    digest = build_content("edge/app:1", 1000).digest
    assert build_content("edge/app:1", 1000).digest == digest
    assert len({digest, build_content("edge/app:2", 1000).digest, build_content("edge/app:1", 1001).digest,
                build_content("edge/app:1", 1000, ("amd64",)).digest}) == 4
