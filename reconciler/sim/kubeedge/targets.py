"""Store lookups the simulated KubeEdge makes for a job: its target nodes and its secret."""

from __future__ import annotations

import base64
from typing import Any

import orjson

from reconciler.sim.apiserver.errors import ApiError
from reconciler.sim.apiserver.store import Store
from reconciler.sim.kubeedge.edge import SecretState
from reconciler.sim.kubeedge.prepull import NodeFacts, PrePullSpec, node_facts, selector_string

JOBS = ("operations.kubeedge.io", "imageprepulljobs")
DOCKERCONFIG_KEY = ".dockerconfigjson"
# CRI AuthConfig's JSON fields, and those that carry a credential
AUTH_CONFIG_FIELDS = frozenset({"username", "password", "auth", "server_address",
                                "identity_token", "registry_token"})
CREDENTIAL_FIELDS = AUTH_CONFIG_FIELDS - {"server_address"}


def resolve_targets(store: Store, spec: PrePullSpec) -> list[tuple[str, NodeFacts | None]]:
    """The job's nodes with their facts: each of nodeNames (None for a missing node), or, when
    nodeNames is empty, the nodes the labelSelector matches (sorted by name)."""
    if spec.node_names:
        out: list[tuple[str, NodeFacts | None]] = []
        for name in spec.node_names:
            try:
                out.append((name, node_facts(store.get("", "nodes", name))))
            except ApiError as exc:
                if exc.code != 404:
                    raise
                out.append((name, None))
        return out
    if spec.label_selector is None:
        return []
    try:
        selector = selector_string(spec.label_selector)
        items, _, _ = store.list("", "nodes", label_selector=selector)
    except (ValueError, ApiError):
        return []  # an invalid selector matches nothing
    return [(f.name, f) for f in map(node_facts, items)]


def secret_state(store: Store, ref: str, *, auths_yield_no_credentials: bool = True) -> SecretState:
    """Whether the edge could use the `namespace/name` secret, as EdgeCore reads it: only
    `data[".dockerconfigjson"]` (never the Secret's type), JSON-decoded straight into a CRI
    AuthConfig (docs/kubeedge.md §1 item 9, §4.5, inferred). "ok" when that yields credentials, "anonymous"
    when it decodes to none (a standard `{"auths": ...}` document with
    `auths_yield_no_credentials`), else why the edge fails. The simulated edge reads the
    contents as the real one does; nothing of them is logged or returned."""
    if not ref:
        return "none"
    parts = ref.split("/")
    if len(parts) != 2 or not all(parts):
        return "bad-format"
    try:
        secret = store.get("", "secrets", parts[1], namespace=parts[0])
    except ApiError as exc:
        if exc.code == 404:
            return "missing"
        raise
    encoded = (secret.get("data") or {}).get(DOCKERCONFIG_KEY)
    if not isinstance(encoded, str):
        return "bad-content"
    try:
        document = orjson.loads(base64.b64decode(encoded, validate=True))
    except (ValueError, orjson.JSONDecodeError):
        return "bad-content"
    return _credentials(document, auths_yield_no_credentials)


def _credentials(document: Any, auths_yield_no_credentials: bool) -> SecretState:
    """Go's json.Unmarshal into AuthConfig: keys match case-insensitively, other keys (such
    as `auths`) are ignored, a non-string credential is a decode error."""
    if document is None:
        return "anonymous"
    if not isinstance(document, dict):
        return "bad-content"
    found = False
    for key, value in document.items():
        if key.lower() not in AUTH_CONFIG_FIELDS:
            continue
        if not isinstance(value, str):
            return "bad-content"
        found = found or (key.lower() in CREDENTIAL_FIELDS and bool(value))
    if found:
        return "ok"
    auths = document.get("auths")
    if not auths_yield_no_credentials and isinstance(auths, dict) and auths:
        return "ok"  # an edge that understood the standard layout
    return "anonymous"
