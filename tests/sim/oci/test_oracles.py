"""Oracles for the simulated registry: skopeo (containers/image) parses what it serves, and
edgefleet's own registry adapter resolves digests, platforms and sizes from it."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess

import orjson
import pytest

from reconciler.registry import DockerConfig, RegistryClient, RegistrySettings
from reconciler.sim.kubeedge.registry import ImageCatalogue
from reconciler.sim.oci.server import SimRegistry

SKOPEO = shutil.which("skopeo")
needs_skopeo = pytest.mark.skipif(SKOPEO is None, reason="skopeo is not installed (.ci/run installs it)")


def skopeo(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(SKOPEO), *args], capture_output=True, text=True, timeout=60, check=False)


@needs_skopeo
@pytest.mark.parametrize("arch", ["amd64", "arm64"])
def test_skopeo_inspects_a_multi_arch_image_for_each_platform(
        registry: SimRegistry, catalogue: ImageCatalogue, arch: str) -> None:
    ref = f"{registry.host}/library/nginx:1.27"
    done = skopeo("inspect", "--tls-verify=false", "--override-os", "linux", "--override-arch", arch,
                  f"docker://{ref}")
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    image = catalogue.lookup(ref)
    assert image is not None
    assert (seen["Name"], seen["Digest"], seen["Architecture"], seen["Os"]) == (
        f"{registry.host}/library/nginx", image.digest, arch, "linux")
    assert "1.27" in seen["RepoTags"]
    # the layers skopeo lists are those of that platform's manifest, whose sizes add up
    index = json.loads(skopeo("inspect", "--raw", "--tls-verify=false", f"docker://{ref}").stdout)
    entry = next(m for m in index["manifests"] if m["platform"]["architecture"] == arch)
    manifest = json.loads(skopeo("inspect", "--raw", "--tls-verify=false",
                                 f"docker://{registry.host}/library/nginx@{entry['digest']}").stdout)
    assert seen["Layers"] == [layer["digest"] for layer in manifest["layers"]]
    assert sum(layer["size"] for layer in manifest["layers"]) == image.size


@needs_skopeo
def test_skopeo_reads_the_raw_index_and_refuses_a_missing_tag(registry: SimRegistry) -> None:
    raw = skopeo("inspect", "--raw", "--tls-verify=false", f"docker://{registry.host}/library/nginx:1.27")
    assert raw.returncode == 0, raw.stderr
    index = json.loads(raw.stdout)
    assert {m["platform"]["architecture"] for m in index["manifests"]} == {"amd64", "arm64"}
    missing = skopeo("inspect", "--tls-verify=false", f"docker://{registry.host}/library/nginx:1.99")
    assert missing.returncode != 0 and "manifest unknown" in missing.stderr


@needs_skopeo
def test_skopeo_sees_an_amd64_only_image_as_one_manifest(registry: SimRegistry) -> None:
    raw = skopeo("inspect", "--raw", "--tls-verify=false",
                 f"docker://{registry.host}/vision/inspector:2.5.0")
    assert raw.returncode == 0, raw.stderr
    assert json.loads(raw.stdout)["mediaType"] == "application/vnd.oci.image.manifest.v1+json"


@needs_skopeo
def test_skopeo_reads_a_private_image_with_credentials_only(registry: SimRegistry) -> None:
    ref = f"docker://{registry.host}/toll/anpr-camera:3.1.0"
    denied = skopeo("inspect", "--tls-verify=false", ref)
    assert denied.returncode != 0 and "authentication required" in denied.stderr
    done = skopeo("inspect", "--tls-verify=false", "--creds", "edgefleet:placeholder", ref)
    assert done.returncode == 0, done.stderr


def test_our_client_reads_a_private_image_with_the_pull_secrets_credentials(
        registry: SimRegistry, catalogue: ImageCatalogue) -> None:
    ref, host = f"{registry.host}/toll/anpr-camera:3.1.0", registry.host
    secret = DockerConfig.from_json(orjson.dumps(
        {"auths": {host: {"auth": base64.b64encode(b"edgefleet:placeholder").decode()}}}))
    with RegistryClient(RegistrySettings(insecure=frozenset({host}))) as client:
        anonymous, authed = client.inspect(ref), client.inspect(ref, secret)
    assert anonymous.exists is None and "access denied (HTTP 401)" in (anonymous.error or "")
    image = catalogue.lookup(ref)
    assert image is not None and authed.exists is True and authed.digest == image.digest


def test_our_client_resolves_digests_platforms_and_sizes(
        registry: SimRegistry, catalogue: ImageCatalogue) -> None:
    host = registry.host
    with RegistryClient(RegistrySettings(insecure=frozenset({host}))) as client:
        multi = client.inspect(f"{host}/library/nginx:1.27")
        amd = client.inspect(f"{host}/vision/inspector:2.5.0")
        arm = client.inspect(f"{host}/nvidia/l4t-base:r36.2.0")
        typo = client.inspect(f"{host}/library/nginx:1.277")
    for facts in (multi, amd, arm):
        image = catalogue.lookup(facts.reference)
        assert image is not None and facts.exists is True and facts.digest == image.digest
        assert {p.size_bytes for p in facts.platforms} == {image.size}
    assert [(p.os, p.architecture, p.variant) for p in multi.platforms] == [
        ("linux", "amd64", None), ("linux", "arm64", "v8")]
    assert [p.architecture for p in amd.platforms] == ["amd64"]
    assert [p.architecture for p in arm.platforms] == ["arm64"]
    assert (typo.exists, typo.error) == (False, f"tag '1.277' not found in {host}/library/nginx")
