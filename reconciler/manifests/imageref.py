"""Container image references: parse, validate and normalize (Docker/OCI reference grammar).

The grammar is the one of github.com/distribution/reference, which containerd and the kubelet
use, so a reference normalized here compares equal to the names a node reports in
`status.images[].names`:

    reference  := name [ ":" tag ] [ "@" digest ]
    name       := [ domain "/" ] path-component ( "/" path-component )*
    domain     := host [ ":" port ]          (host: DNS name, IPv4, or [IPv6])
    path-component := [a-z0-9]+ ( ( "." | "_" | "__" | "-"+ ) [a-z0-9]+ )*
    tag        := [A-Za-z0-9_] [A-Za-z0-9_.-]{0,127}
    digest     := algorithm ":" hex       (sha256: 64, sha384: 96, sha512: 128 lower-case hex)

Normalization: no domain means `docker.io`; `index.docker.io` is `docker.io`; a one-component
Docker Hub path gets `library/`; the tag `latest` is added only when there is neither a tag nor
a digest; host names are lower-cased (DNS is case-insensitive). References with anything a
shell could interpret are rejected before the grammar is even tried: KubeEdge had
command-injection CVEs in sibling node jobs, and these strings end up in every job.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

DEFAULT_REGISTRY = "docker.io"
DEFAULT_TAG = "latest"
_LEGACY_REGISTRIES = frozenset({"index.docker.io"})
_NAME_MAX_LENGTH = 255  # distribution/reference NameTotalLengthMax

_PATH_COMPONENT = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*")
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_HOST = re.compile(rf"{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[a-fA-F0-9:]+\]")
_PORT = re.compile(r"[0-9]{1,5}")
_TAG = re.compile(r"[\w][\w.-]{0,127}", re.ASCII)
_DIGEST_LENGTHS = {"sha256": 64, "sha384": 96, "sha512": 128}
_HEX = re.compile(r"[a-f0-9]+")
_RESERVED_ID = re.compile(r"[a-f0-9]{64}")

# Characters a shell (or a YAML/JSON quoting mistake) could give meaning to. None of them is
# valid in the grammar anyway; checking first gives a precise reason.
_SHELL_CHARACTERS = frozenset(" \t\n\r\v\f\"'`;$|&<>\\(){}*?!#~")


class ImageRefError(ValueError):
    """An image reference that is not valid; the message is the reason, e.g. "empty tag"."""


@dataclass(frozen=True, slots=True)
class ImageRef:
    """A parsed, normalized image reference. `str()` gives the normalized form."""

    registry: str  # host[:port], lower-case, e.g. "docker.io", "reg.example.com:5000"
    repository: str  # path without registry, e.g. "library/nginx"
    tag: str | None  # None only when a digest is given without a tag
    digest: str | None  # "sha256:<64 hex>" or None

    @property
    def name(self) -> str:
        """Registry and repository, without tag or digest: `docker.io/library/nginx`."""
        return f"{self.registry}/{self.repository}"

    def __str__(self) -> str:
        text = self.name
        if self.tag is not None:
            text += ":" + self.tag
        if self.digest is not None:
            text += "@" + self.digest
        return text


def _forbidden_character(ref: str) -> str | None:
    for ch in ref:
        if ch in _SHELL_CHARACTERS or ord(ch) < 0x20 or ord(ch) == 0x7F:
            return ch
        if not ch.isascii():
            return ch
    return None


def _describe(ch: str) -> str:
    if ch.isspace():
        return "whitespace"
    if ord(ch) < 0x20 or ord(ch) == 0x7F:
        return f"a control character (U+{ord(ch):04X})"
    if not ch.isascii():
        return f"a non-ASCII character {ch!r}"
    return f"the character {ch!r}, which a shell could interpret"


def _parse_digest(text: str) -> str:
    algorithm, sep, encoded = text.partition(":")
    if not sep or not algorithm:
        raise ImageRefError(f"digest {text!r} is not of the form algorithm:hex")
    expected = _DIGEST_LENGTHS.get(algorithm)
    if expected is None:
        raise ImageRefError(f"unsupported digest algorithm {algorithm!r} (use sha256, sha384 or sha512)")
    if _HEX.fullmatch(encoded) is None:
        if _HEX.fullmatch(encoded.lower()) is not None:
            raise ImageRefError(f"{algorithm} digest must be lower-case hexadecimal")
        raise ImageRefError(f"{algorithm} digest must be hexadecimal")
    if len(encoded) != expected:
        raise ImageRefError(f"{algorithm} digest must have {expected} hex digits, not {len(encoded)}")
    return text


def _parse_domain(domain: str) -> str:
    host, port = domain, None
    if domain.startswith("["):  # [IPv6]:port
        close = domain.find("]")
        host, rest = domain[: close + 1], domain[close + 1 :]
        if rest:
            if not rest.startswith(":"):
                raise ImageRefError(f"invalid registry {domain!r}")
            port = rest[1:]
    elif ":" in domain:
        host, _, port = domain.partition(":")
    if not host or _HOST.fullmatch(host) is None:
        raise ImageRefError(f"invalid registry host {host!r}")
    if port is not None and (_PORT.fullmatch(port) is None or not 0 < int(port) <= 65535):
        raise ImageRefError(f"invalid registry port {port!r}")
    lowered = domain.lower()
    return DEFAULT_REGISTRY if lowered in _LEGACY_REGISTRIES else lowered


def _split_domain(name: str) -> tuple[str | None, str]:
    """Split `name` into (domain or None, path) the way distribution/reference does."""
    first, sep, rest = name.partition("/")
    if not sep:
        return None, name
    if "." in first or ":" in first or first == "localhost":
        return first, rest
    if first.lower() != first:
        # distribution/reference would take an upper-case first component as a registry host;
        # without a dot or port that is never a real registry, it is a mistyped repository.
        raise ImageRefError("repository name must be lower-case")
    return None, name


def _parse_path(path: str) -> str:
    if not path:
        raise ImageRefError("missing repository name")
    for component in path.split("/"):
        if not component:
            raise ImageRefError("empty path component in repository name")
        if _PATH_COMPONENT.fullmatch(component) is None:
            if _PATH_COMPONENT.fullmatch(component.lower()) is not None:
                raise ImageRefError("repository name must be lower-case")
            raise ImageRefError(f"invalid repository path component {component!r}")
    return path


@functools.lru_cache(maxsize=65536)
def parse_image(ref: str) -> ImageRef:
    """Parse and normalize one image reference.

    Reads only `ref`; returns the normalized ImageRef; raises ImageRefError with the reason
    when `ref` is not a valid reference or holds a character a shell could interpret.
    """
    if not ref:
        raise ImageRefError("empty image reference")
    bad = _forbidden_character(ref)
    if bad is not None:
        raise ImageRefError(f"contains {_describe(bad)}")
    if _RESERVED_ID.fullmatch(ref):
        raise ImageRefError("a 64-character hexadecimal string is an image ID, not a reference")

    remainder, at, digest_text = ref.partition("@")
    digest = None
    if at:
        if "@" in digest_text:
            raise ImageRefError("more than one '@'")
        digest = _parse_digest(digest_text)
    tag = None
    last_slash = remainder.rfind("/")
    colon = remainder.rfind(":")
    if colon > last_slash:
        remainder, tag = remainder[:colon], remainder[colon + 1 :]
        if not tag:
            raise ImageRefError("empty tag")
        if _TAG.fullmatch(tag) is None:
            raise ImageRefError(f"invalid tag {tag!r}")
    if not remainder:
        raise ImageRefError("missing repository name")
    if len(remainder) > _NAME_MAX_LENGTH:
        raise ImageRefError(f"repository name longer than {_NAME_MAX_LENGTH} characters")

    domain, path = _split_domain(remainder)
    registry = DEFAULT_REGISTRY if domain is None else _parse_domain(domain)
    repository = _parse_path(path)
    if registry == DEFAULT_REGISTRY and "/" not in repository:
        repository = "library/" + repository
    if tag is None and digest is None:
        tag = DEFAULT_TAG
    return ImageRef(registry=registry, repository=repository, tag=tag, digest=digest)


@functools.lru_cache(maxsize=262144)
def normalize_image(ref: str) -> str:
    """The normalized string form of `ref` (see the module docstring); raises ImageRefError.

    Cached: it is called for every image name of every node of the fleet.
    """
    return str(parse_image(ref))


@functools.lru_cache(maxsize=65536)
def match_name(ref: str) -> str:
    """The name under which a node or a job reports holding the normalized reference `ref`.

    A reference pinned by digest matches as `registry/repository@digest`: the kubelet lists
    an image's digest and its tags as separate names (never `name:tag@digest`), and with a
    digest the tag is informational. Any other reference matches as itself. Never raises: a
    string that does not parse is returned unchanged.
    """
    if "@" not in ref:
        return ref
    try:
        parsed = parse_image(ref)
    except ImageRefError:
        return ref
    return f"{parsed.name}@{parsed.digest}" if parsed.digest else ref
