"""The URLs of the drift-report webhooks, read from the Secrets the FleetConfig names.

A webhook URL is a credential: it is returned to the caller and nowhere else (no log line, no
error text holds it). Errors name the webhook and the Secret reference only.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence

import orjson

from reconciler.kube.errors import KubeError
from reconciler.kube.session import Session
from reconciler.manifests.models import WebhookSpec


def webhook_urls(session: Session, webhooks: Sequence[WebhookSpec]) -> dict[str, str]:
    """webhook name -> URL, from key `key` of Secret `urlSecret` of each webhook. Raises
    KubeError (one line, no secret value) when a Secret or its key cannot be read."""
    urls: dict[str, str] = {}
    for hook in webhooks:
        namespace, _, name = hook.url_secret.partition("/")
        body = session.call(f"get secret {hook.url_secret}", session.core.read_namespaced_secret,
                            name=name, namespace=namespace)
        try:
            data = orjson.loads(body).get("data") or {}
        except (orjson.JSONDecodeError, AttributeError):
            raise KubeError(f"webhook {hook.name}: Secret {hook.url_secret} is not a Secret object") from None
        encoded = data.get(hook.key) if isinstance(data, dict) else None
        if not encoded:
            raise KubeError(f"webhook {hook.name}: Secret {hook.url_secret} has no key {hook.key!r}")
        try:
            url = base64.b64decode(encoded, validate=True).decode().strip()
        except (binascii.Error, UnicodeDecodeError):
            raise KubeError(f"webhook {hook.name}: key {hook.key!r} of Secret {hook.url_secret} "
                            "is not a UTF-8 URL") from None
        urls[hook.name] = url
    return urls
