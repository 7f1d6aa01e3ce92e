"""Store lookups the simulated KubeEdge makes for a job: its target nodes and its secret."""

from __future__ import annotations

from reconciler.sim.edge import SecretState
from reconciler.sim.errors import ApiError
from reconciler.sim.prepull import NodeFacts, PrePullSpec, node_facts, selector_string
from reconciler.sim.store import Store

JOBS = ("operations.kubeedge.io", "imageprepulljobs")
DOCKERCONFIG_TYPE = "kubernetes.io/dockerconfigjson"


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


def secret_state(store: Store, ref: str) -> SecretState:
    """Whether the edge could use the `namespace/name` secret: it checks only presence and
    shape (type and the `.dockerconfigjson` key), never the contents."""
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
    data = secret.get("data") or {}
    if secret.get("type") == DOCKERCONFIG_TYPE and ".dockerconfigjson" in data:
        return "ok"
    return "bad-content"
