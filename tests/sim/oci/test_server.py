"""The simulated registry over real HTTP (httpx): the distribution API a client inspecting
images uses, 404s with the distribution error body, and the digests edge nodes pull."""

from __future__ import annotations

import json

import httpx

from reconciler.sim.kubeedge.registry import ImageCatalogue, published
from reconciler.sim.oci.content import OCI_INDEX, OCI_MANIFEST, sha256
from reconciler.sim.oci.server import SimRegistry

ACCEPT = {"Accept": f"{OCI_INDEX}, {OCI_MANIFEST}"}


def get(registry: SimRegistry, path: str, method: str = "GET", *,
        auth: tuple[str, str] | None = None) -> httpx.Response:
    return httpx.request(method, f"http://{registry.host}{path}", headers=ACCEPT, auth=auth)


def codes(response: httpx.Response) -> list[str]:
    return [e["code"] for e in response.json()["errors"]]


def test_the_version_check_names_the_challenge_and_answers_with_credentials(registry: SimRegistry) -> None:
    anonymous = get(registry, "/v2/")
    assert anonymous.status_code == 401 and anonymous.headers["WWW-Authenticate"].startswith("Basic ")
    response = get(registry, "/v2/", auth=("edgefleet", "placeholder"))
    assert response.status_code == 200
    assert response.headers["Docker-Distribution-API-Version"] == "registry/2.0"


def test_an_image_behind_a_pull_secret_needs_credentials(registry: SimRegistry) -> None:
    path = "/v2/toll/anpr-camera/manifests/3.1.0"
    denied = get(registry, path, "GET")
    assert denied.status_code == 401 and codes(denied) == ["UNAUTHORIZED"]
    assert get(registry, path, "GET", auth=("", "x")).status_code == 401  # no user name
    assert get(registry, path, "HEAD", auth=("edgefleet", "placeholder")).status_code == 200
    assert get(registry, "/v2/library/nginx/manifests/1.27", "HEAD").status_code == 200  # public


def test_a_tag_resolves_by_head_to_the_digest_a_node_pulls(
        registry: SimRegistry, catalogue: ImageCatalogue) -> None:
    head = get(registry, "/v2/library/nginx/manifests/1.27", "HEAD")
    assert head.status_code == 200 and head.content == b""
    digest = head.headers["Docker-Content-Digest"]
    body = get(registry, f"/v2/library/nginx/manifests/{digest}")
    assert sha256(body.content) == digest and body.headers["Content-Type"] == OCI_INDEX
    assert int(head.headers["Content-Length"]) == len(body.content)
    # the node pulling either name gets the same image, listed under that digest
    for name in (f"{registry.host}/library/nginx:1.27", "nginx:1.27"):
        found = catalogue.lookup(name)
        assert found is not None and found.digest == digest
    assert catalogue.lookup(f"{registry.host}/library/nginx:1.27@{digest}") is not None


def test_platform_manifests_and_config_blobs_are_served_by_digest(registry: SimRegistry) -> None:
    index = get(registry, "/v2/library/nginx/manifests/1.27").json()
    for entry in index["manifests"]:
        manifest = get(registry, f"/v2/library/nginx/manifests/{entry['digest']}")
        assert manifest.status_code == 200 and sha256(manifest.content) == entry["digest"]
        config = get(registry, f"/v2/library/nginx/blobs/{manifest.json()['config']['digest']}")
        assert json.loads(config.content)["architecture"] == entry["platform"]["architecture"]
        layer = manifest.json()["layers"][0]
        head = get(registry, f"/v2/library/nginx/blobs/{layer['digest']}", "HEAD")
        assert head.status_code == 200 and int(head.headers["Content-Length"]) == layer["size"]
        assert codes(get(registry, f"/v2/library/nginx/blobs/{layer['digest']}")) == ["UNSUPPORTED"]


def test_tags_and_repositories_are_listed(registry: SimRegistry) -> None:
    tags = get(registry, "/v2/vision/inspector/tags/list").json()
    assert tags == {"name": "vision/inspector", "tags": ["2.4.1", "2.5.0"]}
    assert "library/nginx" in get(registry, "/v2/_catalog").json()["repositories"]


def test_unknown_names_tags_digests_and_writes_get_distribution_errors(registry: SimRegistry) -> None:
    tag = get(registry, "/v2/library/nginx/manifests/1.99")
    assert tag.status_code == 404 and codes(tag) == ["MANIFEST_UNKNOWN"]
    assert tag.json()["errors"][0]["detail"] == {"Tag": "1.99"}
    assert codes(get(registry, "/v2/library/nginx/manifests/sha256:" + "0" * 64)) == ["MANIFEST_UNKNOWN"]
    name = get(registry, "/v2/library/nginxx/manifests/1.27", "GET")
    assert name.status_code == 404 and codes(name) == ["NAME_UNKNOWN"]
    assert codes(get(registry, "/v2/library/nginx/blobs/sha256:" + "1" * 64)) == ["BLOB_UNKNOWN"]
    put = get(registry, "/v2/library/nginx/manifests/1.27", "PUT")
    assert put.status_code == 405 and codes(put) == ["UNSUPPORTED"]


def test_withdrawn_and_published_images_change_what_is_served(
        registry: SimRegistry, catalogue: ImageCatalogue) -> None:
    catalogue.withdraw("registry.example.com/vision/inspector:2.4.1")
    assert get(registry, "/v2/vision/inspector/manifests/2.4.1", "HEAD").status_code == 404
    assert catalogue.lookup(f"{registry.host}/vision/inspector:2.4.1") is None  # nodes fail too
    catalogue.add(published(f"{registry.host}/edge/new-app:1", 5_000_000, platforms=("arm64",)))
    head = get(registry, "/v2/edge/new-app/manifests/1", "HEAD")
    assert head.status_code == 200 and head.headers["Content-Type"] == OCI_MANIFEST


def test_the_served_host_is_strict_even_when_unknown_references_exist_elsewhere(
        registry: SimRegistry, catalogue: ImageCatalogue) -> None:
    assert catalogue.unknown_exist
    assert catalogue.lookup("registry.example.com/some/other:1") is not None
    assert catalogue.lookup(f"{registry.host}/some/other:1") is None
    assert get(registry, "/v2/some/other/manifests/1", "HEAD").status_code == 404
