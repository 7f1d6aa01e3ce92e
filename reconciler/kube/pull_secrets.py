"""Read the groups' pull secrets for one purpose: authenticating the registry check
(`--registry`, docs/registry.md). Only `kubernetes.io/dockerconfigjson` secrets are read; the
decoded `.dockerconfigjson` goes to the registry adapter, which parses it. Nothing here logs a
secret's content or puts it into an error: messages name the secret and the HTTP status only.

The response body comes back raw (`Session.call` asks the client not to decode it), so the
Kubernetes client's debug logging never sees it either.
"""

from __future__ import annotations

import base64
import binascii
import logging
from collections.abc import Iterable

import orjson

from reconciler.kube.errors import KubeError
from reconciler.kube.session import Session

DOCKER_CONFIG_JSON = "kubernetes.io/dockerconfigjson"
_KEY = ".dockerconfigjson"

log = logging.getLogger("reconciler.kube")


def read_pull_secrets(session: Session, refs: Iterable[str]) -> dict[str, bytes]:
    """`namespace/name` -> the decoded `.dockerconfigjson` of each of `refs` that can be read
    and is a `kubernetes.io/dockerconfigjson` secret. One GET per ref. Never raises: a secret
    that is missing, forbidden, of another type or malformed is left out with a warning (its
    images are then asked with `--docker-config` only), so a registry check never stops a cycle."""
    found: dict[str, bytes] = {}
    for ref in sorted(set(refs)):
        namespace, _, name = ref.partition("/")
        if not namespace or not name or "/" in name:
            continue
        try:
            body = session.call(f"get secret {ref}", session.core.read_namespaced_secret,
                                name=name, namespace=namespace)
        except KubeError as error:
            log.warning("pull secret %s not read for the registry check: %s", ref, error)
            continue
        data = _docker_config(body)
        if data is None:
            log.warning("pull secret %s is not a readable %s secret: not used for the registry check",
                        ref, DOCKER_CONFIG_JSON)
            continue
        found[ref] = data
    return found


def _docker_config(body: bytes) -> bytes | None:
    try:
        secret = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(secret, dict) or secret.get("type") != DOCKER_CONFIG_JSON:
        return None
    value = (secret.get("data") or {}).get(_KEY)
    if not isinstance(value, str):
        return None
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None
