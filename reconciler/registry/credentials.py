"""Registry credentials from a decoded `kubernetes.io/dockerconfigjson` secret or a docker
`config.json`.

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

    def __repr__(self) -> str:
        return f"DockerConfig(registries={sorted(self.auths)!r})"

    def __hash__(self) -> int:
        return hash(tuple(sorted(self.auths.items())))

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
        auths: dict[str, Credentials] = {}
        for key, value in document.get("auths", {}).items():
            credentials = _entry(value)
            if credentials is not None and isinstance(key, str):
                auths.setdefault(_host_key(key), credentials)
        return cls(auths)

    def for_registry(self, registry: str) -> Credentials | None:
        """The credentials for `registry` (as in a normalized reference), or None."""
        return self.auths.get(_host_key(registry))
