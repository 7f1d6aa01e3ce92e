"""The built-in kinds an install of edgefleet creates (deploy/kustomize), served by the embedded
cluster on demand, so that `kubectl apply -k deploy/kustomize/overlays/...` (with
`--dry-run=server` or for real) runs against it.

They are stored objects only: nothing runs a Deployment or a DaemonSet, RBAC objects authorize
nothing, and they carry no schema (the emulator checks custom resources against their CRDs, but
built-in kinds only as JSON objects; tests/deploy validates them against the published
Kubernetes schemas instead).
"""

from __future__ import annotations

from reconciler.sim.apiserver.resource_types import ResourceType
from reconciler.sim.apiserver.store import Store

RBAC = "rbac.authorization.k8s.io"
ADMISSION = "admissionregistration.k8s.io"

INSTALL_TYPES: tuple[ResourceType, ...] = (
    ResourceType("", ("v1",), "v1", "serviceaccounts", "serviceaccount", "ServiceAccount", True,
                 short_names=("sa",)),
    ResourceType("", ("v1",), "v1", "services", "service", "Service", True, short_names=("svc",),
                 categories=("all",), has_status=True),
    ResourceType("apps", ("v1",), "v1", "deployments", "deployment", "Deployment", True,
                 short_names=("deploy",), categories=("all",), has_status=True),
    ResourceType("apps", ("v1",), "v1", "daemonsets", "daemonset", "DaemonSet", True,
                 short_names=("ds",), categories=("all",), has_status=True),
    ResourceType(RBAC, ("v1",), "v1", "clusterroles", "clusterrole", "ClusterRole", False),
    ResourceType(RBAC, ("v1",), "v1", "clusterrolebindings", "clusterrolebinding",
                 "ClusterRoleBinding", False),
    ResourceType(RBAC, ("v1",), "v1", "roles", "role", "Role", True),
    ResourceType(RBAC, ("v1",), "v1", "rolebindings", "rolebinding", "RoleBinding", True),
    ResourceType("policy", ("v1",), "v1", "poddisruptionbudgets", "poddisruptionbudget",
                 "PodDisruptionBudget", True, short_names=("pdb",), has_status=True),
    ResourceType("networking.k8s.io", ("v1",), "v1", "ingresses", "ingress", "Ingress", True,
                 short_names=("ing",), has_status=True),
    ResourceType(ADMISSION, ("v1",), "v1", "validatingadmissionpolicies",
                 "validatingadmissionpolicy", "ValidatingAdmissionPolicy", False, has_status=True),
    ResourceType(ADMISSION, ("v1",), "v1", "validatingadmissionpolicybindings",
                 "validatingadmissionpolicybinding", "ValidatingAdmissionPolicyBinding", False),
)


def serve_install_kinds(store: Store) -> None:
    """Serve INSTALL_TYPES from `store` (idempotent: re-registering keeps stored objects)."""
    for rt in INSTALL_TYPES:
        store.register(rt)
