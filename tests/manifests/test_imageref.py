"""Image references: the normalization table, the rejection table, and grammar properties."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reconciler.manifests.imageref import ImageRef, ImageRefError, normalize_image, parse_image

D64 = "0123456789abcdef" * 4
D64B = "fedcba9876543210" * 4

NORMALIZED = [
    pytest.param("nginx", "docker.io/library/nginx:latest", id="bare-name"),
    pytest.param("nginx:1.25", "docker.io/library/nginx:1.25", id="name-tag"),
    pytest.param("library/nginx", "docker.io/library/nginx:latest", id="library-prefix-given"),
    pytest.param("docker.io/nginx", "docker.io/library/nginx:latest", id="docker-io-single-component"),
    pytest.param("docker.io/library/nginx:1.25", "docker.io/library/nginx:1.25", id="already-normalized"),
    pytest.param("index.docker.io/nginx:1", "docker.io/library/nginx:1", id="legacy-index-host"),
    pytest.param("index.docker.io/bitnami/redis", "docker.io/bitnami/redis:latest", id="legacy-index-user"),
    pytest.param("bitnami/redis:7.2", "docker.io/bitnami/redis:7.2", id="hub-user-repo"),
    pytest.param("reg:5000/a/b", "reg:5000/a/b:latest", id="registry-port"),
    pytest.param("reg.example.com/a/b/c/d:v1", "reg.example.com/a/b/c/d:v1", id="deep-path"),
    pytest.param("localhost/app", "localhost/app:latest", id="localhost"),
    pytest.param("localhost:5000/app:dev", "localhost:5000/app:dev", id="localhost-port"),
    pytest.param("127.0.0.1:5000/app", "127.0.0.1:5000/app:latest", id="ipv4-port"),
    pytest.param("[::1]:5000/app:1", "[::1]:5000/app:1", id="ipv6-port"),
    pytest.param("Registry.Example.COM/app:1", "registry.example.com/app:1", id="host-lower-cased"),
    pytest.param(
        "quay.io/prometheus/node-exporter:v1.8.1", "quay.io/prometheus/node-exporter:v1.8.1", id="quay"
    ),
    pytest.param("nginx:V1.2-RC_3", "docker.io/library/nginx:V1.2-RC_3", id="tag-case-kept"),
    pytest.param("nginx:_x", "docker.io/library/nginx:_x", id="tag-leading-underscore"),
    pytest.param("a__b/c--d/e.f_g", "docker.io/a__b/c--d/e.f_g:latest", id="path-separators"),
    pytest.param(f"nginx@sha256:{D64}", f"docker.io/library/nginx@sha256:{D64}", id="digest-only-no-tag"),
    pytest.param(
        f"nginx:1.25@sha256:{D64}", f"docker.io/library/nginx:1.25@sha256:{D64}", id="tag-and-digest"
    ),
    pytest.param(f"reg:5000/a@sha256:{D64}", f"reg:5000/a@sha256:{D64}", id="port-and-digest"),
    pytest.param("a@sha512:" + "ab" * 64, "docker.io/library/a@sha512:" + "ab" * 64, id="sha512"),
    pytest.param("a@sha384:" + "cd" * 48, "docker.io/library/a@sha384:" + "cd" * 48, id="sha384"),
    pytest.param(
        f"docker.io/library/nginx@sha256:{D64B}",
        f"docker.io/library/nginx@sha256:{D64B}",
        id="kubelet-digest-name",
    ),
    pytest.param("registry.k8s.io/pause:3.9", "registry.k8s.io/pause:3.9", id="kubelet-pause"),
    pytest.param("docker.io/library/busybox:1.36", "docker.io/library/busybox:1.36", id="kubelet-tag-name"),
    pytest.param(
        "docker.io/kubeedge/installation-package:v1.21.0",
        "docker.io/kubeedge/installation-package:v1.21.0",
        id="kubeedge-image",
    ),
    pytest.param("localhost:5000", "docker.io/library/localhost:5000", id="localhost-alone-is-name-tag"),
]

REJECTED = [
    pytest.param("", "empty image reference", id="empty"),
    pytest.param("Nginx", "repository name must be lower-case", id="upper-case-repo"),
    pytest.param("reg.io/Team/app", "repository name must be lower-case", id="upper-case-path"),
    pytest.param("MyUser/app", "repository name must be lower-case", id="upper-case-first-component"),
    pytest.param("nginx:", "empty tag", id="empty-tag"),
    pytest.param("nginx:-x", "invalid tag '-x'", id="tag-leading-dash"),
    pytest.param("nginx:" + "t" * 129, "invalid tag '" + "t" * 129 + "'", id="tag-too-long"),
    pytest.param("a//b", "empty path component in repository name", id="empty-component"),
    pytest.param("a/", "empty path component in repository name", id="trailing-slash"),
    pytest.param("/a", "empty path component in repository name", id="leading-slash"),
    pytest.param("a-/b", "invalid repository path component 'a-'", id="component-trailing-dash"),
    pytest.param("a...b", "invalid repository path component 'a...b'", id="triple-dot"),
    pytest.param(":1.0", "missing repository name", id="tag-without-name"),
    pytest.param(f"@sha256:{D64}", "missing repository name", id="digest-without-name"),
    pytest.param("a@sha256:abc", "sha256 digest must have 64 hex digits, not 3", id="digest-short"),
    pytest.param(
        "a@sha256:" + D64.upper(), "sha256 digest must be lower-case hexadecimal", id="digest-upper-case"
    ),
    pytest.param("a@sha256:" + "z" * 64, "sha256 digest must be hexadecimal", id="digest-not-hex"),
    pytest.param(
        f"a@md5:{D64}",
        "unsupported digest algorithm 'md5' (use sha256, sha384 or sha512)",
        id="digest-algorithm",
    ),
    pytest.param("a@" + D64, f"digest {D64!r} is not of the form algorithm:hex", id="digest-no-algorithm"),
    pytest.param(f"a@sha256:{D64}@sha256:{D64}", "more than one '@'", id="two-digests"),
    pytest.param(D64, "a 64-character hexadecimal string is an image ID, not a reference", id="image-id"),
    pytest.param("reg-.io/a", "invalid registry host 'reg-.io'", id="host-trailing-dash"),
    pytest.param("reg.io:99999/a", "invalid registry port '99999'", id="port-out-of-range"),
    pytest.param("reg.io:http/a", "invalid registry port 'http'", id="port-not-numeric"),
    pytest.param("a" * 256, "repository name longer than 255 characters", id="name-too-long"),
    pytest.param("nginx latest", "contains whitespace", id="space"),
    pytest.param("nginx\t", "contains whitespace", id="tab"),
    pytest.param("nginx\n", "contains whitespace", id="newline"),
    pytest.param("ng\x00inx", "contains a control character (U+0000)", id="nul"),
    pytest.param("ng\x1binx", "contains a control character (U+001B)", id="escape"),
    pytest.param(
        "nginx;rm -rf /", "contains the character ';', which a shell could interpret", id="semicolon"
    ),
    pytest.param("nginx$(id)", "contains the character '$', which a shell could interpret", id="dollar"),
    pytest.param("nginx`id`", "contains the character '`', which a shell could interpret", id="backtick"),
    pytest.param("nginx|sh", "contains the character '|', which a shell could interpret", id="pipe"),
    pytest.param("nginx&&x", "contains the character '&', which a shell could interpret", id="ampersand"),
    pytest.param(
        "nginx>/tmp/x", "contains the character '>', which a shell could interpret", id="redirect-out"
    ),
    pytest.param("nginx</x", "contains the character '<', which a shell could interpret", id="redirect-in"),
    pytest.param('"nginx"', "contains the character '\"', which a shell could interpret", id="double-quote"),
    pytest.param("'nginx'", 'contains the character "\'", which a shell could interpret', id="single-quote"),
    pytest.param("ngïnx", "contains a non-ASCII character 'ï'", id="non-ascii"),
]


@pytest.mark.parametrize(("ref", "expected"), NORMALIZED)
def test_normalizes(ref: str, expected: str) -> None:
    assert normalize_image(ref) == expected
    assert normalize_image(expected) == expected


@pytest.mark.parametrize(("ref", "reason"), REJECTED)
def test_rejects_with_reason(ref: str, reason: str) -> None:
    with pytest.raises(ImageRefError) as caught:
        parse_image(ref)
    assert str(caught.value) == reason


def test_parse_exposes_parts() -> None:
    ref = parse_image(f"reg.example.com:5000/vision/model:2.1@sha256:{D64}")
    assert ref == ImageRef("reg.example.com:5000", "vision/model", "2.1", f"sha256:{D64}")
    assert ref.name == "reg.example.com:5000/vision/model"


def test_digest_only_reference_gets_no_default_tag() -> None:
    ref = parse_image(f"nginx@sha256:{D64}")
    assert ref.tag is None
    assert ref.digest == f"sha256:{D64}"


_component = st.from_regex(r"[a-z0-9]{1,6}(?:(?:[._]|__|-{1,2})[a-z0-9]{1,6}){0,2}", fullmatch=True)
# Without a registry, a first component with a dot would be read as a registry host.
_first_component = st.from_regex(r"[a-z0-9]{1,6}(?:(?:_|__|-{1,2})[a-z0-9]{1,6}){0,2}", fullmatch=True)
_hosts = st.sampled_from(["docker.io", "index.docker.io", "localhost", "reg.example.com:5000", "Quay.IO"])


@st.composite
def _references(draw: st.DrawFn) -> str:
    host = draw(st.one_of(st.none(), _hosts))
    first = draw(_component if host else _first_component)
    path = "/".join([first, *draw(st.lists(_component, max_size=3))])
    tag = draw(st.one_of(st.none(), st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}", fullmatch=True)))
    digest = draw(st.one_of(st.none(), st.from_regex(r"sha256:[a-f0-9]{64}", fullmatch=True)))
    return (host + "/" if host else "") + path + (":" + tag if tag else "") + ("@" + digest if digest else "")


_FORBIDDEN = " \t\n\r\"'`;$|&<>\x00\x07\x7f"


@given(_references())
def test_normalize_is_idempotent_on_valid_references(ref: str) -> None:
    once = normalize_image(ref)
    assert normalize_image(once) == once
    assert parse_image(once) == parse_image(ref)


@given(st.text(alphabet=st.characters(codec="ascii"), max_size=40))
def test_normalize_is_idempotent_on_any_accepted_text(text: str) -> None:
    try:
        once = normalize_image(text)
    except ImageRefError:
        return
    assert normalize_image(once) == once


@given(_references(), st.sampled_from(list(_FORBIDDEN)), st.integers(min_value=0, max_value=200))
def test_never_accepts_forbidden_characters(ref: str, bad: str, where: int) -> None:
    position = where % (len(ref) + 1)
    with pytest.raises(ImageRefError):
        parse_image(ref[:position] + bad + ref[position:])
