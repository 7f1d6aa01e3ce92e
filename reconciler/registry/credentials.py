"""Registry credentials from a decoded `kubernetes.io/dockerconfigjson` secret or a docker
`config.json`.

Two shapes are read: the standard `{"auths": {host: {...}}}` (per registry host), and the one
KubeEdge's edge actually uses, a top-level CRI AuthConfig `{"username", "password"}` (or
`"auth"`, optionally `"serveraddress"`): the edge sends it for every image of the job, so it
applies to any registry the images that name the secret live on (only to `serveraddress` when
given). A group's secret is consulted first, then the `--docker-config` file (`fallback`).

The caller reads the secret (or file) and hands over its bytes; this module only parses them.
Passwords stay inside `Credentials`: its repr hides them, parse errors never quote the input,
and nothing here logs.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from urllib.parse import urlsplit

#: The names Docker Hub goes by in config files; `docker.io` references use any of them.
_DOCKER_HUB_KEYS = ("docker.io", "index.docker.io", "registry-1.docker.io")
#: The key of a top-level AuthConfig without a server address: the registry of the image asked.
ANY_REGISTRY = "*"


class DockerConfigError(ValueError):
    """A docker config that cannot be read; the message never contains its content."""


@dataclass(frozen=True, slots=True)
class Credentials:
    """A user name and password (or token) for one registry."""

    username: str
    password: str = field(repr=False)

    def __repr__(self) -> str:
        return f"Credentials(username={self.username!r}, password=<hidden>)"


def _host_key(key: str) -> str:
    """`https://reg.example.com/v1/` and `reg.example.com` both name `reg.example.com`."""
    host = urlsplit(key).netloc if "://" in key else key.split("/", 1)[0]
    host = host.lower()
    return "docker.io" if host in _DOCKER_HUB_KEYS else host


def _entry(value: object) -> Credentials | None:
    if not isinstance(value, dict):
        return None
    username, password = value.get("username"), value.get("password")
    if isinstance(username, str) and isinstance(password, str) and username:
        return Credentials(username, password)
    auth = value.get("auth")
    if not isinstance(auth, str) or not auth:
        return None
    try:
        decoded = base64.b64decode(auth, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise DockerConfigError('an "auth" value is not base64 of user:password') from None
    user, sep, secret = decoded.partition(":")
    if not sep or not user:
        raise DockerConfigError('an "auth" value is not base64 of user:password')
    return Credentials(user, secret)


@dataclass(frozen=True, slots=True)
class DockerConfig:
    """Credentials per registry host (`host[:port]`, lower-case; Docker Hub as `docker.io`)."""

    auths: dict[str, Credentials] = field(default_factory=dict, hash=False)
    fallback: DockerConfig | None = field(default=None, hash=False)  # asked when this has none

    def __repr__(self) -> str:
        more = f", fallback={self.fallback!r}" if self.fallback is not None else ""
        return f"DockerConfig(registries={sorted(self.auths)!r}{more})"

    def __hash__(self) -> int:
        return hash((tuple(sorted(self.auths.items())), self.fallback))

    def before(self, fallback: DockerConfig | None) -> DockerConfig:
        """This config, then `fallback` for the registries this one has no credentials for."""
        return self if fallback is None else DockerConfig(dict(self.auths), fallback)

    @classmethod
    def from_json(cls, data: bytes | str) -> DockerConfig:
        """Parse a `.dockerconfigjson` / `config.json` ({"auths": {host: {auth | username,
        password}}}). Entries without usable credentials (e.g. credential helpers) are skipped."""
        try:
            document = json.loads(data)
        except (ValueError, UnicodeDecodeError):
            raise DockerConfigError("docker config is not valid JSON") from None
        if not isinstance(document, dict) or not isinstance(document.get("auths", {}), dict):
            raise DockerConfigError('docker config has no "auths" mapping')
        if "auths" not in document and (top := _entry(document)) is not None:
            # KubeEdge's shape: one AuthConfig for the images of the job (module docstring).
            server = document.get("serveraddress") or document.get("serverAddress")
            return cls({_host_key(server) if isinstance(server, str) and server else ANY_REGISTRY: top})
        auths: dict[str, Credentials] = {}
        for key, value in document.get("auths", {}).items():
            credentials = _entry(value)
            if credentials is not None and isinstance(key, str):
                auths.setdefault(_host_key(key), credentials)
        return cls(auths)

    def for_registry(self, registry: str) -> Credentials | None:
        """The credentials for `registry` (as in a normalized reference), or None: this
        config's entry for the host, its any-registry AuthConfig, else the fallback's."""
        found = self.auths.get(_host_key(registry)) or self.auths.get(ANY_REGISTRY)
        if found is None and self.fallback is not None:
            return self.fallback.for_registry(registry)
        return found
